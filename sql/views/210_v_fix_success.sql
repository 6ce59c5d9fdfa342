-- Why: fix effectiveness sums support over environments, per tenant.
-- Read from rollup_fix_total (one row per tenant, problem and fix, recomputed
-- from fix_outcome by each refresh); v_ref_fix_success is the raw form.
CREATE OR REPLACE VIEW devdiag.v_fix_success
WITH (security_invoker = TRUE)
AS
SELECT
    f.tenant,
    f.problem_code,
    f.fix_code,
    f.successes,
    (f.confidence_sum / f.environments)::double precision AS avg_confidence,
    f.last_success,
    f.environments
FROM devdiag_rollup.rollup_fix_total AS f;

COMMENT ON VIEW devdiag.v_fix_success IS
'Per tenant, problem and fix: total support (successes), mean confidence over environments, last credit time.';
COMMENT ON COLUMN devdiag.v_fix_success.successes IS 'Sum of support over all environments.';
COMMENT ON COLUMN devdiag.v_fix_success.avg_confidence IS 'Mean of the per-environment confidence, 0 to 1.';
COMMENT ON COLUMN devdiag.v_fix_success.last_success IS 'Latest time the fix was credited for the problem.';
