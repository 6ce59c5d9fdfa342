-- Why: only monitoring reads sync lag per source (it runs as the owner).
GRANT EXECUTE ON FUNCTION devdiag.monitor_sync_sources() TO devdiag_monitor;
