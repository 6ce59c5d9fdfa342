-- Why: freshness alerts (no run ingested for an hour, archive not moving) for
-- the monitoring role, without any row content.
CREATE OR REPLACE VIEW devdiag.v_monitor_tables
WITH (security_invoker = TRUE)
AS
SELECT
    m.table_name,
    m.oldest_ts,
    m.newest_ts
FROM devdiag.monitor_tables() AS m;

COMMENT ON VIEW devdiag.v_monitor_tables IS
'Monitoring: per tenant table (diag_run, diag_run_archive, fix_outcome), oldest and newest ts; no row content.';
