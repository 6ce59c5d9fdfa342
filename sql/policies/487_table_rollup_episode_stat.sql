-- Why: v_tenant_health reads its open episodes and mean TTR from it (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_episode_stat TO devdiag_reader, devdiag_analyst;
