-- Why: v_tenant_health counts the runs of its 168-hour window from it (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_tenant_hour TO devdiag_reader, devdiag_analyst;
