-- Why: the Prometheus exporter's warehouse-wide gauges for the monitoring
-- role; counts come from an owner-run function, the view stays
-- security_invoker (only monitoring may execute that function).
CREATE OR REPLACE VIEW devdiag.v_monitor_ops
WITH (security_invoker = TRUE)
AS
SELECT
    m.open_episodes,
    m.open_problem_codes,
    m.oldest_open_started_at,
    m.fix_confidence_avg,
    m.fix_outcomes,
    m.ttr_median_hours_7d,
    m.ttr_resolved_7d,
    m.retention_days
FROM devdiag.monitor_ops() AS m;

COMMENT ON VIEW devdiag.v_monitor_ops IS
'Monitoring: open remediation episodes and distinct problems, support-weighted mean fix confidence, median TTR (hours) '
'of episodes resolved in the last 7 days, settings.retention_days; no tenant names or target hashes.';
