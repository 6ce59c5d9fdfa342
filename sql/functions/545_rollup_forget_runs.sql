-- Why: a purged archive day is detached from the archive; the rollups must
-- lose its runs as if they had never been folded in. Runs at or below their
-- tenant's watermark when the day was purged (p_folded, or the tenant's own
-- in p_tenant_folded when higher) are in the rollups and leave them through
-- the registry's folds with sign -1 (counts drop, episodes of their targets
-- are replayed from the runs that are left); the others were never counted
-- and leave no counts. Called by the refresh before it moves a watermark, with
-- the refresh locks of the day's tenants held: the all-tenant refresh for the
-- whole day, a refresh of some tenants for those tenants' runs only
-- (p_tenants), in one read of the day whatever their number.
DROP FUNCTION IF EXISTS devdiag.rollup_forget_runs(regclass);
DROP FUNCTION IF EXISTS devdiag.rollup_forget_runs(regclass, bigint, jsonb);
DROP FUNCTION IF EXISTS devdiag.rollup_forget_runs(regclass, bigint, jsonb, text);

CREATE OR REPLACE FUNCTION devdiag.rollup_forget_runs(
    p_runs regclass, p_folded bigint, p_tenant_folded jsonb, p_tenants text[] DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    n bigint;
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
    -- The table name is a regclass.
    EXECUTE format('SELECT count(*) FROM %s AS o WHERE $1::text[] IS NULL OR o.tenant = ANY ($1)', p_runs)
    INTO n
    USING p_tenants;
    IF n = 0 THEN
        RETURN 0;
    END IF;
    EXECUTE format(
        'SELECT array_agg(o.tenant), array_agg(o.ts), array_agg(o.target_hash), array_agg(o.env_fp), '
        'array_agg(o.problems), array_agg(-1) '
        'FROM %s AS o WHERE o.ingest_id <= greatest($1, ($2 ->> o.tenant)::bigint) '
        'AND ($3::text[] IS NULL OR o.tenant = ANY ($3))', p_runs)
    INTO c_tenant, c_ts, c_target, c_env, c_problems, c_sign
    USING p_folded, p_tenant_folded, p_tenants;
    -- Every target of the day is replayed, folded runs or not: a replay reads
    -- the raw runs, so an earlier one may have taken in runs not folded yet.
    -- A target's runs changed or deleted since the last refresh are not out
    -- of its stored episodes yet: its replay starts at the earliest of them
    -- too, so no episode is seeded from runs that are gone (the next refresh
    -- folds those changes and replays the target again).
    EXECUTE format(
        'SELECT array_agg(t.tenant), array_agg(t.target_hash), array_agg(least(t.t0, q.t0)), '
        'array_agg(t.reports OR q.t0 IS NOT NULL) '
        'FROM (SELECT o.tenant, o.target_hash, min(o.ts) AS t0, bool_or(jsonb_array_length(o.problems) > 0) AS reports '
        'FROM %s AS o WHERE $1::text[] IS NULL OR o.tenant = ANY ($1) GROUP BY o.tenant, o.target_hash) AS t '
        'LEFT JOIN (SELECT p.tenant, p.target_hash, min(p.ts) AS t0 FROM devdiag_rollup.rollup_run_change AS p '
        'WHERE $1::text[] IS NULL OR p.tenant = ANY ($1) GROUP BY p.tenant, p.target_hash) AS q ON t.tenant = q.tenant AND t.target_hash = q.target_hash', p_runs)
    INTO t_tenant, t_target, t_from, t_reports
    USING p_tenants;
    PERFORM devdiag.rollup_apply_runs(c_tenant, c_ts, c_target, c_env, c_problems, c_sign);
    PERFORM devdiag.rollup_apply_targets(t_tenant, t_target, t_from, t_reports);
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_forget_runs(regclass, bigint, jsonb, text[]) IS
'Takes the runs of a detached partition (of the tenants given, or all) out of the rollups (those folded in by the '
'watermarks given); returns how many runs it held.';
