-- Why: no view reads it (it only tells the triggers when an environment comes
-- or goes); the analyst may still study it, rows filtered by the tenant policies.
GRANT SELECT ON devdiag_rollup.rollup_problem_env TO devdiag_analyst;
