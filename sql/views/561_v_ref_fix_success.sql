-- Why: the raw-data definition of devdiag.v_fix_success, kept runnable under this
-- name after v_fix_success moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_fix_success
WITH (security_invoker = TRUE)
AS
SELECT
    f.tenant,
    f.problem_code,
    f.fix_code,
    sum(f.support)::bigint AS successes,
    avg(f.confidence)::double precision AS avg_confidence,
    max(f.ts) AS last_success,
    count(*)::bigint AS environments
FROM devdiag.fix_outcome AS f
GROUP BY f.tenant, f.problem_code, f.fix_code;

COMMENT ON VIEW devdiag_ref.v_ref_fix_success IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Per tenant, problem and fix: total support (successes), mean confidence over environments, last credit time.';
COMMENT ON COLUMN devdiag_ref.v_ref_fix_success.successes IS 'Sum of support over all environments.';
COMMENT ON COLUMN devdiag_ref.v_ref_fix_success.avg_confidence IS 'Mean of the per-environment confidence, 0 to 1.';
COMMENT ON COLUMN devdiag_ref.v_ref_fix_success.last_success IS 'Latest time the fix was credited for the problem.';
