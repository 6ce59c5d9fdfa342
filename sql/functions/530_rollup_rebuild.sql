-- Why: the rollups must be built from the runs already there when they cannot
-- be folded on: a TRUNCATE, rows changed by hand with the triggers off (a
-- restore), a step that changes what a rollup holds. Every table the
-- registry's folds keep is emptied and every run and fix outcome is folded in
-- again by the refresh itself, from the first ingest id: the one path that
-- folds rows, so a new rollup is rebuilt by its registry row alone. Writers
-- wait meanwhile (SHARE locks), so every row there is counted, and the
-- watermark ends at the last ingest id drawn.
DROP FUNCTION IF EXISTS devdiag.rollup_rebuild();

CREATE OR REPLACE FUNCTION devdiag.rollup_rebuild(p_lock_wait interval DEFAULT interval '1 minute')
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    v_part regclass;
    v_keeps text;
    v_folded bigint;
BEGIN
    -- The all-tenant refresh's lock, then the tables: no refresh runs meanwhile.
    PERFORM devdiag.take_lock(7236114, 0);
    LOCK TABLE devdiag.diag_run, devdiag.diag_run_archive, devdiag.fix_outcome IN SHARE MODE;
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

    SELECT string_agg(format('devdiag_rollup.%I', btrim(k.name)), ', ' ORDER BY btrim(k.name))
    INTO v_keeps
    FROM devdiag_rollup.rollup_registry AS g
    CROSS JOIN LATERAL regexp_split_to_table(g.keeps, ',') AS k (name);
    IF v_keeps IS NOT NULL THEN
        -- Names from the registry, quoted with %I.
        EXECUTE 'TRUNCATE ' || v_keeps;
    END IF;
    -- Old versions of changed rows and the watermarks of one-tenant
    -- refreshes: the refresh below counts the rows as they are, from the start.
    DELETE FROM devdiag_rollup.rollup_run_change;
    DELETE FROM devdiag_rollup.rollup_fix_change;
    DELETE FROM devdiag_rollup.rollup_tenant_watermark;
    UPDATE devdiag_rollup.rollup_refresh_state SET folded_through = 0, rebuild_pending = FALSE;
    -- This transaction holds the tables: the refresh's safe point waits only
    -- for another holder of a SHARE lock (an index build), and gives up after
    -- p_lock_wait rather than fold nothing here.
    CALL devdiag.refresh_rollups(p_lock_wait => p_lock_wait, folded => v_folded);
    IF v_folded IS NULL THEN
        RAISE EXCEPTION 'rollup_rebuild: the run tables stayed locked by another session; nothing was rebuilt'
            USING ERRCODE = 'lock_not_available';
    END IF;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_rebuild(interval) IS
'Recomputes every rollup from the raw runs and fix outcomes (writers wait meanwhile) by emptying the tables the '
'registry names and folding every row again; the refresh watermark ends at the last ingest id. Fails with '
'lock_not_available, changing nothing, when another session holds the run tables longer than p_lock_wait.';
