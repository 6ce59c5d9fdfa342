-- Why: v_ttr_episodes, v_ttr_days, v_open_problems and the analyst views read it (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_ttr_episode TO devdiag_reader, devdiag_analyst;
