-- Why: the oldest and newest ts of diag_run or diag_run_archive without an
-- index on ts alone (every index leads with tenant): the first and last
-- non-empty day partitions are read, plus the DEFAULT partition, which only
-- holds runs waiting for their day's partition. Reads one day, not the table.
CREATE OR REPLACE FUNCTION devdiag.run_ts_bounds(
    p_parent regclass,
    OUT oldest_ts timestamptz,
    OUT newest_ts timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name text := (SELECT c.relname FROM pg_catalog.pg_class AS c WHERE c.oid = p_parent);
    v_day date;
    v_lo timestamptz;
    v_hi timestamptz;
BEGIN
    IF to_regclass(format('devdiag_part.%I', v_name || '_default')) IS NULL THEN
        -- not partitioned (a schema rolled back below the day partitions)
        EXECUTE format('SELECT min(d.ts), max(d.ts) FROM %s AS d', p_parent) INTO oldest_ts, newest_ts;
        RETURN;
    END IF;
    -- Names are built from a regclass and with %I from the catalog.
    EXECUTE format('SELECT min(d.ts), max(d.ts) FROM devdiag_part.%I AS d', v_name || '_default')
    INTO oldest_ts, newest_ts;
    FOR v_day IN SELECT d.day FROM devdiag.run_partition_days(p_parent) AS d (day) ORDER BY d.day LOOP
        EXECUTE format('SELECT min(d.ts) FROM devdiag_part.%I AS d', v_name || '_p' || to_char(v_day, 'YYYYMMDD'))
        INTO v_lo;
        IF v_lo IS NOT NULL THEN
            oldest_ts := least(oldest_ts, v_lo);
            EXIT;
        END IF;
    END LOOP;
    FOR v_day IN SELECT d.day FROM devdiag.run_partition_days(p_parent) AS d (day) ORDER BY d.day DESC LOOP
        EXECUTE format('SELECT max(d.ts) FROM devdiag_part.%I AS d', v_name || '_p' || to_char(v_day, 'YYYYMMDD'))
        INTO v_hi;
        IF v_hi IS NOT NULL THEN
            newest_ts := greatest(newest_ts, v_hi);
            EXIT;
        END IF;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION devdiag.run_ts_bounds(regclass) IS
'Oldest and newest ts of diag_run or diag_run_archive (NULL when empty), read from its end partitions.';
