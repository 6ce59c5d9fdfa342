-- Why: v_tenant_health divides by its runs with problems (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_tenant_total TO devdiag_reader, devdiag_analyst;
