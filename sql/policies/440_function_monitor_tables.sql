-- Why: only monitoring reads table freshness (it runs as the owner).
GRANT EXECUTE ON FUNCTION devdiag.monitor_tables() TO devdiag_monitor;
