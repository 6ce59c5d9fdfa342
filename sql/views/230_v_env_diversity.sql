-- Why: a problem seen in many environments is systemic, not local.
CREATE OR REPLACE VIEW devdiag.v_env_diversity
WITH (security_invoker = TRUE)
AS
SELECT
    rp.tenant,
    rp.problem_code,
    count(DISTINCT rp.env_fp)::bigint AS unique_environments,
    count(*)::bigint AS total_runs
FROM devdiag.v_run_problem AS rp
GROUP BY rp.tenant, rp.problem_code;

COMMENT ON VIEW devdiag.v_env_diversity IS
'Per tenant and problem: distinct environment fingerprints among the runs reporting it, and those runs.';
