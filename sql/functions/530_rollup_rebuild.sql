-- Why: the rollups must be built from the runs already there when they cannot
-- be folded on: a TRUNCATE, runs changed or deleted by hand, or a backfill
-- so large that one pass over everything beats folding it in batches. Writers
-- wait meanwhile (SHARE locks), so every run there is counted, and the
-- refresh watermark moves to the last ingest id drawn.
CREATE OR REPLACE FUNCTION devdiag.rollup_rebuild()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    v_tenant text[];
    v_target text[];
    v_hi bigint;
    v_part regclass;
BEGIN
    -- The all-tenant refresh's lock, then the tables: no refresh runs meanwhile.
    PERFORM devdiag.take_lock(7236114, 0);
    LOCK TABLE devdiag.diag_run, devdiag.diag_run_archive, devdiag.fix_outcome IN SHARE MODE;
    -- No writer is in flight now, and none can start: every id drawn is in the tables or was rolled back.
    SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO v_hi FROM devdiag.ingest_seq AS s;
    -- Archive days purged and not yet refreshed: their runs are gone, and
    -- what is counted below is what is left. (A table listed but dropped by
    -- hand has nothing left to drop.)
    FOR v_part IN
        SELECT p.part FROM devdiag_rollup.rollup_purged_day AS p
        WHERE EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = p.part)
    LOOP
        EXECUTE format('DROP TABLE %s', v_part);
    END LOOP;
    DELETE FROM devdiag_rollup.rollup_purged_day;
    TRUNCATE devdiag_rollup.rollup_problem_day, devdiag_rollup.rollup_problem_env, devdiag_rollup.rollup_problem_total,
        devdiag_rollup.rollup_tenant_hour, devdiag_rollup.rollup_tenant_total, devdiag_rollup.rollup_fix_total,
        devdiag_rollup.rollup_ttr_episode, devdiag_rollup.rollup_ttr_histogram, devdiag_rollup.rollup_episode_stat,
        devdiag_rollup.rollup_episode_day, devdiag_rollup.rollup_tenant_day, devdiag_rollup.rollup_resolved_day;

    -- The same counts the folds keep, over every run at once.
    INSERT INTO devdiag_rollup.rollup_tenant_hour (tenant, hour, runs, problem_runs)
    SELECT
        r.tenant, date_bin('1 hour', r.ts, '2000-01-01 00:00:00+00'::timestamptz),
        count(*), count(*) FILTER (WHERE jsonb_array_length(r.problems) > 0)
    FROM (
        SELECT d.tenant, d.ts, d.problems FROM devdiag.diag_run AS d
        UNION ALL
        SELECT a.tenant, a.ts, a.problems FROM devdiag.diag_run_archive AS a
    ) AS r
    GROUP BY 1, 2;

    INSERT INTO devdiag_rollup.rollup_tenant_day (tenant, day, runs, problem_runs)
    SELECT h.tenant, devdiag.utc_day(h.hour), sum(h.runs), sum(h.problem_runs)
    FROM devdiag_rollup.rollup_tenant_hour AS h
    GROUP BY 1, 2;

    INSERT INTO devdiag_rollup.rollup_tenant_total (tenant, runs, problem_runs)
    SELECT h.tenant, sum(h.runs), sum(h.problem_runs)
    FROM devdiag_rollup.rollup_tenant_hour AS h
    GROUP BY 1;

    INSERT INTO devdiag_rollup.rollup_problem_day (tenant, day, problem_code, runs)
    SELECT r.tenant, devdiag.utc_day(r.ts), p.code, count(*)
    FROM (
        SELECT d.tenant, d.ts, d.problems FROM devdiag.diag_run AS d
        WHERE jsonb_array_length(d.problems) > 0
        UNION ALL
        SELECT a.tenant, a.ts, a.problems FROM devdiag.diag_run_archive AS a
        WHERE jsonb_array_length(a.problems) > 0
    ) AS r
    CROSS JOIN LATERAL (SELECT DISTINCT e.code FROM jsonb_array_elements_text(r.problems) AS e (code)) AS p
    GROUP BY 1, 2, 3;

    INSERT INTO devdiag_rollup.rollup_problem_env (tenant, problem_code, env_fp, runs)
    SELECT r.tenant, p.code, r.env_fp, count(*)
    FROM (
        SELECT d.tenant, d.env_fp, d.problems FROM devdiag.diag_run AS d
        WHERE jsonb_array_length(d.problems) > 0 AND d.env_fp IS NOT NULL
        UNION ALL
        SELECT a.tenant, a.env_fp, a.problems FROM devdiag.diag_run_archive AS a
        WHERE jsonb_array_length(a.problems) > 0 AND a.env_fp IS NOT NULL
    ) AS r
    CROSS JOIN LATERAL (SELECT DISTINCT e.code FROM jsonb_array_elements_text(r.problems) AS e (code)) AS p
    GROUP BY 1, 2, 3;

    INSERT INTO devdiag_rollup.rollup_problem_total (tenant, problem_code, unique_environments, total_runs)
    SELECT d.tenant, d.problem_code, coalesce(e.environments, 0), d.runs
    FROM (
        SELECT x.tenant, x.problem_code, sum(x.runs) AS runs
        FROM devdiag_rollup.rollup_problem_day AS x
        GROUP BY 1, 2
    ) AS d
    LEFT JOIN (
        SELECT x.tenant, x.problem_code, count(*) AS environments
        FROM devdiag_rollup.rollup_problem_env AS x
        GROUP BY 1, 2
    ) AS e ON d.tenant = e.tenant AND d.problem_code = e.problem_code;

    -- Every fix group through the fix totals fold itself.
    PERFORM devdiag.rollup_recompute_fix_totals(array_agg(g.tenant), array_agg(g.problem_code), array_agg(g.fix_code))
    FROM (SELECT DISTINCT f.tenant, f.problem_code, f.fix_code FROM devdiag.fix_outcome AS f) AS g;

    -- Every target through the folds of targets, from its first run.
    SELECT array_agg(t.tenant ORDER BY t.tenant, t.target_hash), array_agg(t.target_hash ORDER BY t.tenant, t.target_hash)
    INTO v_tenant, v_target
    FROM (
        SELECT d.tenant, d.target_hash FROM devdiag.diag_run AS d
        UNION
        SELECT a.tenant, a.target_hash FROM devdiag.diag_run_archive AS a
    ) AS t;
    PERFORM devdiag.rollup_apply_targets(
        v_tenant, v_target,
        array_fill('-infinity'::timestamptz, ARRAY[coalesce(cardinality(v_tenant), 0)]),
        array_fill(TRUE, ARRAY[coalesce(cardinality(v_tenant), 0)])
    );

    UPDATE devdiag_rollup.rollup_refresh_state SET folded_through = v_hi, refreshed_at = now(), rebuild_pending = FALSE;
    DELETE FROM devdiag_rollup.rollup_tenant_watermark;
    -- Old versions of changed runs: the rebuild counted the runs as they are.
    DELETE FROM devdiag_rollup.rollup_run_change;
    DELETE FROM devdiag_rollup.rollup_fix_change;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_rebuild() IS
'Recomputes every rollup from the raw runs and fix outcomes (writers wait meanwhile) and moves the refresh watermark '
'to the last ingest id.';
