-- Why: the raw-data definition of devdiag.v_env_diversity, kept runnable under this
-- name after v_env_diversity moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_env_diversity
WITH (security_invoker = TRUE)
AS
SELECT
    rp.tenant,
    rp.problem_code,
    count(DISTINCT rp.env_fp)::bigint AS unique_environments,
    count(*)::bigint AS total_runs
FROM devdiag.v_run_problem AS rp
GROUP BY rp.tenant, rp.problem_code;

COMMENT ON VIEW devdiag_ref.v_ref_env_diversity IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Per tenant and problem: distinct environment fingerprints among the runs reporting it, and those runs.';
