-- Why: purging a day of the archive drops its partition (no row-by-row
-- delete); the rollups lose its runs first, as they lose deleted runs, so
-- every view still equals a computation over the runs that are left. One
-- transaction: killed at any point, the day and its counts are all still there.
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
    -- The all-tenant refresh's key, then the day's tenants' refresh keys (in
    -- the refresh's order), before the archive's exclusive lock: a refresh
    -- reads the archive while it holds them.
    PERFORM devdiag.take_lock(7236114, 0);
    -- Names come from a regclass.
    EXECUTE format(
        'SELECT count(devdiag.take_lock(7236111, l.k)) '
        'FROM (SELECT DISTINCT hashtext(o.tenant) AS k FROM %s AS o ORDER BY 1) AS l', v_part);
    EXECUTE format('ALTER TABLE devdiag.diag_run_archive DETACH PARTITION %s', v_part);
    n := devdiag.rollup_forget_runs(v_part);
    EXECUTE format('DROP TABLE %s', v_part);
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.purge_archive_day(date) IS
'Drops the archive partition of one UTC day, taking its runs out of the rollups; returns how many runs it held.';
