-- Why: an optional hard limit on history; off unless archive_purge_days is
-- set. Whole UTC days that ended before the cutoff are dropped, oldest first;
-- fix outcomes last credited before it go once the days are done.
CREATE OR REPLACE FUNCTION devdiag.purge_archive_days(
    p_max_days integer DEFAULT 1,
    p_cutoff timestamptz DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_days integer := (nullif(devdiag.setting('archive_purge_days'), 'null'::jsonb))::integer;
    v_cutoff timestamptz := coalesce(p_cutoff, now() - make_interval(days => v_days));
    v_before date := (v_cutoff AT TIME ZONE 'UTC')::date;
    v_day date;
    v_done integer := 0;
    n bigint := 0;
    g_tenant text[];
    g_problem text[];
    g_fix text[];
BEGIN
    IF coalesce(p_max_days, 0) < 1 THEN
        RAISE EXCEPTION 'purge_archive_days: p_max_days must be at least 1, not %', coalesce(p_max_days::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_cutoff IS NULL THEN
        RETURN 0;  -- purge is off
    END IF;
    -- One retention job at a time, locks in purge_archive_day's order.
    PERFORM devdiag.take_lock(7236113, 0);
    PERFORM devdiag.take_lock(7236112, 'devdiag.diag_run_archive'::regclass::oid::integer);
    FOR v_day IN
        SELECT DISTINCT (a.ts AT TIME ZONE 'UTC')::date
        FROM devdiag_part.diag_run_archive_default AS a
        WHERE a.ts < v_before::timestamp AT TIME ZONE 'UTC'
        ORDER BY 1
    LOOP
        PERFORM devdiag.run_partition_for_day('devdiag.diag_run_archive', v_day);
    END LOOP;
    FOR v_day IN
        SELECT d.day
        FROM devdiag.run_partition_days('devdiag.diag_run_archive') AS d (day)
        WHERE d.day < v_before
        ORDER BY d.day
        LIMIT p_max_days
    LOOP
        n := n + devdiag.purge_archive_day(v_day);
        v_done := v_done + 1;
    END LOOP;
    IF v_done < p_max_days THEN
        -- Fix outcomes age by their last credit (ts), not their first; their
        -- groups are recomputed from the rows left, as a refresh would.
        WITH gone AS (
            DELETE FROM devdiag.fix_outcome AS f WHERE f.ts < v_cutoff
            RETURNING f.tenant, f.problem_code, f.fix_code
        )
        SELECT array_agg(g.tenant), array_agg(g.problem_code), array_agg(g.fix_code)
        INTO g_tenant, g_problem, g_fix
        FROM (SELECT DISTINCT x.tenant, x.problem_code, x.fix_code FROM gone AS x) AS g;
        PERFORM devdiag.rollup_apply_fix_groups(g_tenant, g_problem, g_fix);
    END IF;
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.purge_archive_days(integer, timestamptz) IS
'Drops up to p_max_days whole UTC days of the archive that ended before p_cutoff (default: archive_purge_days ago) '
'and, once none is left, fix outcomes last credited before it; returns how many runs; 0 when purge is off.';
