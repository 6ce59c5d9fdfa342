-- Why: a problem seen in many environments is systemic, not local.
-- Read from rollup_problem_total; v_ref_env_diversity is the raw form.
CREATE OR REPLACE VIEW devdiag.v_env_diversity
WITH (security_invoker = TRUE)
AS
SELECT
    p.tenant,
    p.problem_code,
    p.unique_environments,
    p.total_runs
FROM devdiag_rollup.rollup_problem_total AS p;

COMMENT ON VIEW devdiag.v_env_diversity IS
'Per tenant and problem: distinct environment fingerprints among the runs reporting it, and those runs.';
