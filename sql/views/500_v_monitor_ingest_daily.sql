-- Why: Grafana's ingest panel for the monitoring role, which may not read
-- tenant rows: counts come from an owner-run function, the view stays
-- security_invoker (the caller needs EXECUTE on it, which only monitoring has).
CREATE OR REPLACE VIEW devdiag.v_monitor_ingest_daily
WITH (security_invoker = TRUE)
AS
SELECT
    m.day,
    m.runs,
    m.problem_runs,
    m.tenants,
    m.targets,
    m.environments,
    m.last_run_at
FROM devdiag.monitor_ingest_daily(14) AS m;

COMMENT ON VIEW devdiag.v_monitor_ingest_daily IS
'Monitoring: live runs per UTC day over the last 14 days (zero-filled); counts of runs, runs with problems, distinct '
'tenants, targets and environments; no tenant names or target hashes.';
