-- Why: purging a day of the archive drops its partition (no row-by-row
-- delete) and holds the archive's exclusive lock for the detach only,
-- whatever the day holds. Taking its runs out of the rollups replays the
-- episodes of its targets up to now, which grows with their history: the
-- purge leaves that to the next all-tenant refresh. The day is detached,
-- kept aside in devdiag_part under another name and listed in
-- devdiag_rollup.rollup_purged_day with the watermarks of the moment (which
-- of its runs the rollups hold); the refresh takes those out of the rollups
-- and drops it. Until then the day's runs are gone from the run tables and
-- still in the views, as new runs are in the run tables and not yet in the
-- views. One transaction: killed at any point, the day is still in the
-- archive, or aside and listed.
CREATE OR REPLACE FUNCTION devdiag.purge_archive_day(p_day date)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_part regclass;
    n bigint;
BEGIN
    IF p_day IS NULL OR NOT isfinite(p_day) THEN
        RAISE EXCEPTION 'purge_archive_day: the day must be a finite date, not %', coalesce(p_day::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM devdiag.take_lock(7236113, 0);
    PERFORM devdiag.take_lock(7236112, 'devdiag.diag_run_archive'::regclass::oid::integer);
    v_part := to_regclass(format('devdiag_part.%I', 'diag_run_archive_p' || to_char(p_day, 'YYYYMMDD')));
    IF v_part IS NULL THEN
        RETURN 0;
    END IF;
    -- Waits for every refresh reading the archive; a refresh that starts
    -- meanwhile waits at its safe point. The watermarks read below are
    -- therefore those of the runs this day still holds.
    EXECUTE format('ALTER TABLE devdiag.diag_run_archive DETACH PARTITION %s', v_part);
    EXECUTE format('SELECT count(*) FROM %s', v_part) INTO n;
    IF n = 0 THEN
        EXECUTE format('DROP TABLE %s', v_part);
        RETURN 0;
    END IF;
    -- The oid makes the name unique: a day archived again and purged again
    -- before a refresh is kept aside a second time.
    EXECUTE format('ALTER TABLE %s RENAME TO %I', v_part, 'diag_run_archive_purged_' || v_part::oid);
    -- The refresh runs as devdiag_owner; a day made by another login of the
    -- owner group must be readable (and droppable) by it.
    EXECUTE format('ALTER TABLE %s OWNER TO devdiag_owner', v_part);
    INSERT INTO devdiag_rollup.rollup_purged_day (part, day, runs, folded_through, tenant_folded)
    SELECT
        v_part, p_day, n, s.folded_through,
        coalesce(
            (SELECT jsonb_object_agg(w.tenant, w.folded_through) FROM devdiag_rollup.rollup_tenant_watermark AS w),
            '{}'::jsonb
        )
    FROM devdiag_rollup.rollup_refresh_state AS s;
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.purge_archive_day(date) IS
'Takes the archive partition of one UTC day out of the archive (the next all-tenant refresh takes its runs out of '
'the rollups and drops it); returns how many runs it held.';
