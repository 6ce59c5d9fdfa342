-- Why: only monitoring reads the operations aggregates (it runs as the owner).
GRANT EXECUTE ON FUNCTION devdiag.monitor_ops() TO devdiag_monitor;
