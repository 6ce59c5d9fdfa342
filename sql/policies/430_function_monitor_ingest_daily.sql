-- Why: only monitoring reads cross-tenant counts (it runs as the owner).
GRANT EXECUTE ON FUNCTION devdiag.monitor_ingest_daily(integer) TO devdiag_monitor;
