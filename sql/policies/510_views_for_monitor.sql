-- Why: monitoring reads aggregates only, through these views.
GRANT SELECT ON devdiag.v_monitor_ingest_daily, devdiag.v_monitor_tables TO devdiag_monitor;
