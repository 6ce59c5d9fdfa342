-- Why: the raw-data definition of devdiag.v_fix_ranking, kept runnable under this
-- name after v_fix_ranking moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_fix_ranking
WITH (security_invoker = TRUE)
AS
SELECT
    s.tenant,
    s.problem_code,
    s.fix_code,
    s.successes,
    s.avg_confidence,
    rank() OVER (
        PARTITION BY s.tenant, s.problem_code
        ORDER BY s.successes DESC, s.avg_confidence DESC
    )::integer AS rank
FROM devdiag_ref.v_ref_fix_success AS s;

COMMENT ON VIEW devdiag_ref.v_ref_fix_ranking IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Fixes ranked per tenant and problem by successes, then confidence (1 = best; ties share a rank).';
