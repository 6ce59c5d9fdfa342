-- Why: the exporter reads rollup freshness and daily run counts, nothing of any tenant.
GRANT EXECUTE ON FUNCTION devdiag.monitor_rollups(), devdiag.monitor_runs_recent() TO devdiag_monitor;
GRANT SELECT ON devdiag.v_monitor_rollups, devdiag.v_monitor_runs_recent TO devdiag_monitor;
