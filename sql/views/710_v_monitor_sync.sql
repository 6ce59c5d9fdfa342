-- Why: sync lag per source for the monitoring role (Prometheus, Grafana).
CREATE OR REPLACE VIEW devdiag.v_monitor_sync
WITH (security_invoker = TRUE)
AS
SELECT
    m.source,
    m.last_sync_at,
    m.lag_seconds,
    m.runs_synced,
    m.rows_rejected
FROM devdiag.monitor_sync_sources() AS m;

COMMENT ON VIEW devdiag.v_monitor_sync IS
'Monitoring: per sync source, last completed sync, seconds since it, runs synced and rows rejected so far.';
