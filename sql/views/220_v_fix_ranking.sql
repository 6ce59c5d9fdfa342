-- Why: fixes are ranked within a tenant and problem (the old view mixed tenants).
CREATE OR REPLACE VIEW devdiag.v_fix_ranking
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
FROM devdiag.v_fix_success AS s;

COMMENT ON VIEW devdiag.v_fix_ranking IS
'Fixes ranked per tenant and problem by successes, then confidence (1 = best; ties share a rank).';
