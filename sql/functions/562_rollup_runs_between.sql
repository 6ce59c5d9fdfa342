-- Why: the refresh reads the runs of an ingest id range in three ways (the
-- tenants to lock, each batch, each target once); one definition of that
-- range: runs written in it come in (sign 1), folded versions of runs changed
-- or deleted in it leave (sign -1, or 0 for a version never counted, whose
-- target is only replayed), and a read of every tenant or of a set of
-- them skips what a refresh of one tenant already folded. Plain SQL, so the
-- caller's planner inlines it and reads only the ranges the ingest indexes
-- point to.
DROP FUNCTION IF EXISTS devdiag.rollup_runs_between(bigint, bigint, text);

CREATE OR REPLACE FUNCTION devdiag.rollup_runs_between(p_lo bigint, p_hi bigint, p_tenants text[])
RETURNS TABLE (tenant text, ts timestamptz, target_hash text, env_fp text, problems jsonb, sign integer)
LANGUAGE sql
STABLE
AS $$
SELECT r.tenant, r.ts, r.target_hash, r.env_fp, r.problems, r.sign
FROM (
    SELECT d.tenant, d.ts, d.target_hash, d.env_fp, d.problems, d.ingest_id, 1 AS sign
    FROM devdiag.diag_run AS d
    WHERE d.ingest_id > p_lo AND d.ingest_id <= p_hi AND (p_tenants IS NULL OR d.tenant = ANY (p_tenants))
    UNION ALL
    SELECT a.tenant, a.ts, a.target_hash, a.env_fp, a.problems, a.ingest_id, 1
    FROM devdiag.diag_run_archive AS a
    WHERE a.ingest_id > p_lo AND a.ingest_id <= p_hi AND (p_tenants IS NULL OR a.tenant = ANY (p_tenants))
    UNION ALL
    -- (a version never counted moves no count: sign 0; its target is replayed)
    SELECT q.tenant, q.ts, q.target_hash, q.env_fp, q.problems, q.ingest_id, CASE WHEN q.counted THEN -1 ELSE 0 END
    FROM devdiag_rollup.rollup_run_change AS q
    WHERE q.ingest_id > p_lo AND q.ingest_id <= p_hi AND (p_tenants IS NULL OR q.tenant = ANY (p_tenants))
) AS r
LEFT JOIN devdiag_rollup.rollup_tenant_watermark AS w ON (p_tenants IS NULL OR cardinality(p_tenants) > 1) AND r.tenant = w.tenant
WHERE r.ingest_id > coalesce(w.folded_through, 0);
$$;

COMMENT ON FUNCTION devdiag.rollup_runs_between(bigint, bigint, text[]) IS
'Runs to fold for ingest ids in (p_lo, p_hi] (these tenants when given): written ones with sign 1, '
'versions changed or deleted with sign -1 (counted) or 0 (never counted: their targets are replayed).';
