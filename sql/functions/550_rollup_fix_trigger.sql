-- Why: fix outcomes change by sync upserts (support grows, confidence is
-- overwritten, ts moves to the last credit) and by the purge; recomputing the
-- touched (tenant, problem, fix) groups keeps rollup_fix_total equal to the
-- aggregate over fix_outcome at every commit. Runs as the owner.
CREATE OR REPLACE FUNCTION devdiag.rollup_fix_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    g_tenant text[];
    g_problem text[];
    g_fix text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.tenant), array_agg(n.problem_code), array_agg(n.fix_code)
        INTO g_tenant, g_problem, g_fix
        FROM (SELECT DISTINCT x.tenant, x.problem_code, x.fix_code FROM new_rows AS x) AS n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.tenant), array_agg(o.problem_code), array_agg(o.fix_code)
        INTO g_tenant, g_problem, g_fix
        FROM (SELECT DISTINCT x.tenant, x.problem_code, x.fix_code FROM old_rows AS x) AS o;
    ELSE
        SELECT array_agg(u.tenant), array_agg(u.problem_code), array_agg(u.fix_code)
        INTO g_tenant, g_problem, g_fix
        FROM (
            SELECT x.tenant, x.problem_code, x.fix_code FROM new_rows AS x
            UNION
            SELECT x.tenant, x.problem_code, x.fix_code FROM old_rows AS x
        ) AS u;
    END IF;
    -- The rollup triggers' tenant lock, taken before the rollup is touched (see rollup_runs_trigger).
    PERFORM devdiag.take_lock(7236111, l.k)
    FROM (SELECT DISTINCT hashtext(t.tenant) AS k FROM unnest(g_tenant) AS t (tenant) ORDER BY 1) AS l;
    PERFORM devdiag.rollup_recompute_fix_totals(g_tenant, g_problem, g_fix);
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_fix_trigger() IS
'Statement trigger of fix_outcome: recomputes rollup_fix_total for the groups the statement touched.';
