-- Why: v_env_diversity reads it (security_invoker: the reader's own rows only, by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_problem_total TO devdiag_reader, devdiag_analyst;
