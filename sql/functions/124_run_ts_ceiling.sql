-- Why: the episode replay skips the archive when a change is newer than any
-- archived run. Every archive index leads with tenant, so max(ts) would read
-- whole partitions; the upper bound of the newest day partition (from the
-- catalog) and the newest run waiting in the DEFAULT partition (normally
-- empty) bound it from above without reading a day: at worst the replay
-- probes the archive by index for a run of the newest archived day.
CREATE OR REPLACE FUNCTION devdiag.run_ts_ceiling(p_parent regclass)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name text := (SELECT c.relname FROM pg_catalog.pg_class AS c WHERE c.oid = p_parent);
    v_day date := (SELECT max(d.day) FROM devdiag.run_partition_days(p_parent) AS d (day));
    v_default timestamptz;
BEGIN
    IF to_regclass(format('devdiag_part.%I', v_name || '_default')) IS NULL THEN
        -- not partitioned (a schema rolled back below the day partitions)
        EXECUTE format('SELECT max(d.ts) FROM %s AS d', p_parent) INTO v_default;
        RETURN v_default;
    END IF;
    -- Names are built from a regclass and with %I from the catalog.
    EXECUTE format('SELECT max(d.ts) FROM devdiag_part.%I AS d', v_name || '_default') INTO v_default;
    RETURN greatest(v_default, ((v_day + 1)::timestamp AT TIME ZONE 'UTC'));
END;
$$;

COMMENT ON FUNCTION devdiag.run_ts_ceiling(regclass) IS
'A timestamp no run of diag_run or diag_run_archive reaches (NULL when it has no day partition and no run).';
