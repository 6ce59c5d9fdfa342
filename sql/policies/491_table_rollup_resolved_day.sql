-- Why: v_tenant_daily reads it (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_resolved_day TO devdiag_reader, devdiag_analyst;
