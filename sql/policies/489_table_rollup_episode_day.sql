-- Why: v_episode_days reads it (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_episode_day TO devdiag_reader, devdiag_analyst;
