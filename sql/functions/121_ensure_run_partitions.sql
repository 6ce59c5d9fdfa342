-- Why: writers that know they will land runs of days without a partition
-- (the sync, a backfill, a late batch) create those days first, so the runs
-- land in their day and not in the DEFAULT partition, which the retention job
-- would have to empty again. Runs as the owner (writers may not create
-- tables); it touches no table when every day already has its partition.
CREATE OR REPLACE FUNCTION devdiag.ensure_run_partitions(p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_first date;
    v_last date;
    v_day date;
    n integer := 0;
BEGIN
    IF p_from IS NULL AND p_to IS NULL THEN
        RETURN 0;  -- an empty batch
    END IF;
    IF p_from IS NULL OR p_to IS NULL OR NOT isfinite(p_from) OR NOT isfinite(p_to) THEN
        RAISE EXCEPTION 'ensure_run_partitions: both bounds must be finite timestamps, got % and %',
            coalesce(p_from::text, 'NULL'), coalesce(p_to::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_first := (p_from AT TIME ZONE 'UTC')::date;
    v_last := (p_to AT TIME ZONE 'UTC')::date;
    IF v_last < v_first THEN
        RAISE EXCEPTION 'ensure_run_partitions: % is before %', p_to, p_from
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_last - v_first >= 3660 THEN
        RAISE EXCEPTION 'ensure_run_partitions: % to % spans % days; call it for at most 3660 days at a time',
            v_first, v_last, v_last - v_first + 1
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_day IN
        SELECT d.day::date
        FROM generate_series(v_first, v_last, interval '1 day') AS d (day)
        WHERE to_regclass(format('devdiag_part.%I', 'diag_run_p' || to_char(d.day, 'YYYYMMDD'))) IS NULL
        ORDER BY 1
    LOOP
        PERFORM devdiag.run_partition_for_day('devdiag.diag_run', v_day);
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.ensure_run_partitions(timestamptz, timestamptz) IS
'Creates the diag_run partitions of every UTC day from p_from to p_to that has none; returns how many it created.';
