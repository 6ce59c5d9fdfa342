-- Why: diag_run and diag_run_archive hold one partition per UTC day, in
-- schema devdiag_part, named <table>_pYYYYMMDD. A missing day is created as
-- a plain table and then attached, which locks the parent only against other
-- schema changes (CREATE TABLE ... PARTITION OF would lock out readers and
-- writers); runs of that day waiting in the DEFAULT partition move into it in
-- the same transaction (statements on a partition fire none of the parent's
-- rollup triggers: the set of runs is unchanged). One maker per table at a
-- time (devdiag.take_lock), so concurrent callers of one day create it once.
-- Each partition keeps a CHECK constraint of its bounds (<name>_bounds),
-- added while it is empty, so validating it reads nothing: the ATTACH here
-- and the one that moves the day to the archive (archive_run_day) then skip
-- scanning the day's rows.
CREATE OR REPLACE FUNCTION devdiag.run_partition_for_day(p_parent regclass, p_day date)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent text;
    v_name text;
    v_part regclass;
    v_default regclass;
    v_from timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_to timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF p_parent IS NULL OR p_parent NOT IN ('devdiag.diag_run'::regclass, 'devdiag.diag_run_archive'::regclass) THEN
        RAISE EXCEPTION 'run_partition_for_day: % is not devdiag.diag_run or devdiag.diag_run_archive', p_parent
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_day IS NULL OR NOT isfinite(p_day) THEN
        RAISE EXCEPTION 'run_partition_for_day: the day must be a finite date, not %', coalesce(p_day::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c.relname INTO v_parent FROM pg_catalog.pg_class AS c WHERE c.oid = p_parent;
    v_name := v_parent || '_p' || to_char(p_day, 'YYYYMMDD');
    v_part := to_regclass(format('devdiag_part.%I', v_name));
    IF v_part IS NOT NULL THEN
        RETURN v_part;
    END IF;
    PERFORM devdiag.take_lock(7236112, p_parent::oid::integer);
    v_part := to_regclass(format('devdiag_part.%I', v_name));
    IF v_part IS NOT NULL THEN
        RETURN v_part;
    END IF;

    -- Names are built from a regclass, %I and %L only.
    EXECUTE format('CREATE TABLE devdiag_part.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name, p_parent);
    v_part := to_regclass(format('devdiag_part.%I', v_name));
    -- Lets ATTACH skip its scan, here and when the day moves to the archive.
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (ts >= %L AND ts < %L)',
        v_part, v_name || '_bounds', v_from, v_to);
    v_default := to_regclass(format('devdiag_part.%I', v_parent || '_default'));
    IF v_default IS NOT NULL THEN
        -- Taken first, so the ATTACH below needs no stronger lock than this transaction holds.
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', v_default);
        -- The rows keep their ingest ids and stay in the table: not a change the rollups must see
        -- (sql/functions/580 skips rows deleted while this is set; only the owner can delete runs).
        PERFORM set_config('devdiag.moving_runs', 'on', TRUE);
        EXECUTE format(
            'WITH moved AS (DELETE FROM %s AS d WHERE d.ts >= %L AND d.ts < %L RETURNING d.*) '
            'INSERT INTO %s SELECT * FROM moved',
            v_default, v_from, v_to, v_part);
        PERFORM set_config('devdiag.moving_runs', '', TRUE);
    END IF;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', p_parent, v_part, v_from, v_to);
    RETURN v_part;
END;
$$;

COMMENT ON FUNCTION devdiag.run_partition_for_day(regclass, date) IS
'The partition of diag_run or diag_run_archive for one UTC day, created (and filled from the DEFAULT partition) when missing.';
