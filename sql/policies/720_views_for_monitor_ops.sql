-- Why: the Prometheus exporter, logged in as monitoring, reads these views.
GRANT SELECT ON devdiag.v_monitor_ops, devdiag.v_monitor_sync TO devdiag_monitor;
