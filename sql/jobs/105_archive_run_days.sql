-- Why: the retention job's unit of work: the oldest UTC days that ended
-- before the cutoff (retention_days ago unless given), each moved whole by
-- archive_run_day. Runs of such days still in the DEFAULT partition first get
-- their day's partition, so every day moves the same way.
CREATE OR REPLACE FUNCTION devdiag.archive_run_days(
    p_max_days integer DEFAULT 1,
    p_cutoff timestamptz DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cutoff timestamptz := coalesce(
        p_cutoff, now() - make_interval(days => (devdiag.setting('retention_days'))::integer));
    v_before date := (v_cutoff AT TIME ZONE 'UTC')::date;
    v_day date;
    n bigint := 0;
BEGIN
    IF coalesce(p_max_days, 0) < 1 THEN
        RAISE EXCEPTION 'archive_run_days: p_max_days must be at least 1, not %', coalesce(p_max_days::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One retention job at a time, locks in archive_run_day's order.
    PERFORM devdiag.take_lock(7236113, 0);
    PERFORM devdiag.take_lock(7236112, 'devdiag.diag_run'::regclass::oid::integer);
    PERFORM devdiag.take_lock(7236112, 'devdiag.diag_run_archive'::regclass::oid::integer);
    LOCK TABLE devdiag.diag_run IN ACCESS EXCLUSIVE MODE;
    FOR v_day IN
        SELECT DISTINCT (d.ts AT TIME ZONE 'UTC')::date
        FROM devdiag_part.diag_run_default AS d
        WHERE d.ts < v_before::timestamp AT TIME ZONE 'UTC'
        ORDER BY 1
    LOOP
        PERFORM devdiag.run_partition_for_day('devdiag.diag_run', v_day);
    END LOOP;
    FOR v_day IN
        SELECT d.day
        FROM devdiag.run_partition_days('devdiag.diag_run') AS d (day)
        WHERE d.day < v_before
        ORDER BY d.day
        LIMIT p_max_days
    LOOP
        n := n + devdiag.archive_run_day(v_day);
    END LOOP;
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.archive_run_days(integer, timestamptz) IS
'Moves up to p_max_days whole UTC days that ended before p_cutoff (default: retention_days ago) to the archive; '
'returns how many runs they held.';
