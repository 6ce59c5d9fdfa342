-- Why: a purged archive day is detached from the archive; the rollups must
-- lose its runs as if they had never been folded in. Runs at or below their
-- tenant's watermark when the day was purged (p_folded, or the tenant's own
-- in p_tenant_folded when higher) are in the rollups and leave them through
-- the registry's folds with sign -1 (counts drop, episodes of their targets
-- are replayed from the runs that are left); the others were never counted
-- and leave no counts. Called by the refresh before it moves a watermark, with
-- the refresh locks of the days' tenants held: the all-tenant refresh for the
-- whole days, a refresh of some tenants for those tenants' runs only
-- (p_tenants), in one read of each day whatever their number.
-- Every day kept aside is forgotten in the same call, and each target is
-- replayed once, from its earliest run in any of them: replayed from one day
-- alone, a target could be seeded with an episode begun on a run that left
-- with another (the same UTC day purged twice, once before and once after a
-- late run of it was archived). Counts go day by day, by each day's own
-- watermarks, so memory is bounded by a day's runs.
DROP FUNCTION IF EXISTS devdiag.rollup_forget_runs(regclass);
DROP FUNCTION IF EXISTS devdiag.rollup_forget_runs(regclass, bigint, jsonb);
DROP FUNCTION IF EXISTS devdiag.rollup_forget_runs(regclass, bigint, jsonb, text);
DROP FUNCTION IF EXISTS devdiag.rollup_forget_runs(regclass, bigint, jsonb, text[]);

CREATE OR REPLACE FUNCTION devdiag.rollup_forget_runs(
    p_parts regclass[], p_folded bigint[], p_tenant_folded jsonb[], p_tenants text[] DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    n bigint := 0;
    k bigint;
    c_tenant text[];
    c_ts timestamptz[];
    c_target text[];
    c_env text[];
    c_problems jsonb[];
    c_sign integer[];
    t_tenant text[];
    t_target text[];
    t_from timestamptz[];
    t_reports boolean[];
BEGIN
    IF cardinality(p_parts) IS DISTINCT FROM cardinality(p_folded)
        OR cardinality(p_parts) IS DISTINCT FROM cardinality(p_tenant_folded) THEN
        RAISE EXCEPTION 'rollup_forget_runs: give one watermark and one set of tenant watermarks per day'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Table names are regclass values. One read of each day: its runs, and
    -- those of them that were folded.
    FOR i IN 1 .. coalesce(cardinality(p_parts), 0) LOOP
        EXECUTE format(
            'SELECT count(*), array_agg(o.tenant) FILTER (WHERE o.folded), array_agg(o.ts) FILTER (WHERE o.folded), '
            'array_agg(o.target_hash) FILTER (WHERE o.folded), array_agg(o.env_fp) FILTER (WHERE o.folded), '
            'array_agg(o.problems) FILTER (WHERE o.folded), array_agg(-1) FILTER (WHERE o.folded) '
            'FROM (SELECT d.*, d.ingest_id <= greatest($1, ($2 ->> d.tenant)::bigint) AS folded FROM %s AS d '
            'WHERE $3::text[] IS NULL OR d.tenant = ANY ($3)) AS o', p_parts[i])
        INTO k, c_tenant, c_ts, c_target, c_env, c_problems, c_sign
        USING p_folded[i], p_tenant_folded[i], p_tenants;
        n := n + k;
        PERFORM devdiag.rollup_apply_runs(c_tenant, c_ts, c_target, c_env, c_problems, c_sign);
    END LOOP;
    IF n = 0 THEN
        RETURN 0;
    END IF;
    -- Every target of the days is replayed, folded runs or not: a replay reads
    -- the raw runs, so an earlier one may have taken in runs not folded yet.
    -- A target's runs changed or deleted since the last refresh are not out
    -- of its stored episodes yet: its replay starts at the earliest of them
    -- too, so no episode is seeded from runs that are gone (the next refresh
    -- folds those changes and replays the target again).
    EXECUTE format(
        'SELECT array_agg(t.tenant), array_agg(t.target_hash), array_agg(least(t.t0, q.t0)), '
        'array_agg(t.reports OR q.t0 IS NOT NULL) '
        'FROM (SELECT o.tenant, o.target_hash, min(o.ts) AS t0, bool_or(jsonb_array_length(o.problems) > 0) AS reports '
        'FROM (%s) AS o WHERE $1::text[] IS NULL OR o.tenant = ANY ($1) GROUP BY o.tenant, o.target_hash) AS t '
        'LEFT JOIN (SELECT p.tenant, p.target_hash, min(p.ts) AS t0 FROM devdiag_rollup.rollup_run_change AS p '
        'WHERE $1::text[] IS NULL OR p.tenant = ANY ($1) GROUP BY p.tenant, p.target_hash) AS q '
        'ON t.tenant = q.tenant AND t.target_hash = q.target_hash',
        (SELECT string_agg(format('SELECT d.tenant, d.target_hash, d.ts, d.problems FROM %s AS d', x.part), ' UNION ALL ')
         FROM unnest(p_parts) AS x (part)))
    INTO t_tenant, t_target, t_from, t_reports
    USING p_tenants;
    PERFORM devdiag.rollup_apply_targets(t_tenant, t_target, t_from, t_reports);
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_forget_runs(regclass[], bigint[], jsonb[], text[]) IS
'Takes the runs of detached partitions (of the tenants given, or all) out of the rollups (those folded in by each '
'partition''s watermarks); returns how many runs they held.';
