-- Why: the exporter reads rollup freshness, nothing of any tenant.
GRANT EXECUTE ON FUNCTION devdiag.monitor_rollups() TO devdiag_monitor;
GRANT SELECT ON devdiag.v_monitor_rollups TO devdiag_monitor;
