-- Why: the fix groups (tenant, problem, fix) an ingest id range touched: fix
-- outcomes written in it, and groups a changed or deleted fix outcome left;
-- a read of every tenant or of a set of them skips what a refresh of one
-- tenant already folded.
DROP FUNCTION IF EXISTS devdiag.rollup_fix_groups_between(bigint, bigint, text);

CREATE OR REPLACE FUNCTION devdiag.rollup_fix_groups_between(p_lo bigint, p_hi bigint, p_tenants text[])
RETURNS TABLE (tenant text, problem_code text, fix_code text)
LANGUAGE sql
STABLE
AS $$
SELECT DISTINCT x.tenant, x.problem_code, x.fix_code
FROM (
    SELECT fo.tenant, fo.problem_code, fo.fix_code, fo.ingest_id
    FROM devdiag.fix_outcome AS fo
    WHERE fo.ingest_id > p_lo AND fo.ingest_id <= p_hi AND (p_tenants IS NULL OR fo.tenant = ANY (p_tenants))
    UNION ALL
    SELECT q.tenant, q.problem_code, q.fix_code, q.ingest_id
    FROM devdiag_rollup.rollup_fix_change AS q
    WHERE q.ingest_id > p_lo AND q.ingest_id <= p_hi AND (p_tenants IS NULL OR q.tenant = ANY (p_tenants))
) AS x
LEFT JOIN devdiag_rollup.rollup_tenant_watermark AS w ON (p_tenants IS NULL OR cardinality(p_tenants) > 1) AND x.tenant = w.tenant
WHERE x.ingest_id > coalesce(w.folded_through, 0);
$$;

COMMENT ON FUNCTION devdiag.rollup_fix_groups_between(bigint, bigint, text[]) IS
'Fix groups to recompute for ingest ids in (p_lo, p_hi] (these tenants when given).';
