-- Why: the exporter's rollup freshness gauges for the monitoring role (see
-- devdiag.monitor_rollups); security_invoker like every view here.
CREATE OR REPLACE VIEW devdiag.v_monitor_rollups
WITH (security_invoker = TRUE)
AS
SELECT
    m.folded_through,
    m.ingested_through,
    m.pending_ids,
    m.refreshed_at,
    m.lag_seconds
FROM devdiag.monitor_rollups() AS m;

COMMENT ON VIEW devdiag.v_monitor_rollups IS
'Monitoring: refresh watermark, last ingest id, ids waiting to be folded, last refresh, and lag_seconds '
'(how long runs have waited for a refresh; 0 when none wait).';

-- Why: the exporter's runs-per-day gauges, from the day rollup (see devdiag.monitor_runs_recent).
CREATE OR REPLACE VIEW devdiag.v_monitor_runs_recent
WITH (security_invoker = TRUE)
AS
SELECT
    m.today,
    m.problem_runs_today,
    m.yesterday,
    m.tenants_today
FROM devdiag.monitor_runs_recent() AS m;

COMMENT ON VIEW devdiag.v_monitor_runs_recent IS
'Monitoring: runs today and yesterday (UTC), problem runs and tenants today, as of the last rollup refresh.';
