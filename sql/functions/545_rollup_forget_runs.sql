-- Why: purging a day drops its archive partition, which fires no trigger; the
-- rollups must still lose its runs exactly as the DELETE trigger of
-- 540_rollup_runs_trigger.sql would take them out (-1 for every run, then a
-- replay of the episodes of the targets whose runs left). Called after the
-- partition is detached, so the replay reads the runs that are left. Takes
-- the same per-tenant locks as the trigger, in the same order.
CREATE OR REPLACE FUNCTION devdiag.rollup_forget_runs(p_runs regclass)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    c_tenant text[];
    c_ts timestamptz[];
    c_env text[];
    c_problems jsonb[];
    c_sign integer[];
    e_target text[];
    e_reports boolean[];
BEGIN
    -- The table name is a regclass.
    EXECUTE format(
        'SELECT array_agg(o.tenant), array_agg(o.ts), array_agg(o.env_fp), array_agg(o.problems), array_agg(-1), '
        'array_agg(o.target_hash), array_agg(jsonb_array_length(o.problems) > 0) FROM %s AS o', p_runs)
    INTO c_tenant, c_ts, c_env, c_problems, c_sign, e_target, e_reports;
    IF c_tenant IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM devdiag.take_lock(7236111, l.k)
    FROM (SELECT DISTINCT hashtext(x.tenant) AS k FROM unnest(c_tenant) AS x (tenant) ORDER BY 1) AS l;
    PERFORM devdiag.rollup_count_runs(c_tenant, c_ts, c_env, c_problems, c_sign);
    PERFORM devdiag.rollup_recompute_episodes(c_tenant, e_target, c_ts, e_reports);
    RETURN cardinality(c_tenant);
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_forget_runs(regclass) IS
'Takes the runs of a detached partition out of the rollups (as deleting them would); returns how many.';
