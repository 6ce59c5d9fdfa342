-- Why: a UTC day past retention leaves diag_run as a whole: its partition is
-- detached and attached to diag_run_archive, so no row is copied or deleted
-- and the move reads the day's rows only to count them. The partition's
-- CHECK of its bounds (made with it, see run_partition_for_day) lets the
-- ATTACH skip scanning the day; a partition without one gets it here, at the
-- cost of one scan. The constraint names take the archive's prefix (an
-- ATTACH matches CHECK constraints by name), and archived_at is added as a
-- column whose value is the move's time (a stored default, no rewrite). A
-- day the archive already holds (late runs of an archived day) is appended
-- to that day's archive partition and the live one dropped. Either way it is
-- one transaction: killed at any point, the day is wholly live or wholly
-- archived. No rollup changes: the views count live and archived runs alike.
-- One mover at a time (devdiag.take_lock); a second mover of the same day
-- finds nothing left.
CREATE OR REPLACE FUNCTION devdiag.archive_run_day(p_day date)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_suffix text := '_p' || to_char(p_day, 'YYYYMMDD');
    -- the day's partition of the archive, and its CHECK of its bounds
    v_arch_name text := 'diag_run_archive' || v_suffix;
    v_bounds text := v_arch_name || '_bounds';
    v_live regclass;
    v_arch regclass;
    v_from timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_to timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_cols text;
    c record;
    n bigint;
BEGIN
    IF p_day IS NULL OR NOT isfinite(p_day) THEN
        RAISE EXCEPTION 'archive_run_day: the day must be a finite date, not %', coalesce(p_day::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Locks in one order for every mover and partition maker: the mover's
    -- lock, the partition makers' locks (run_partition_for_day), then
    -- diag_run itself, before any partition is touched; a writer holding
    -- diag_run and waiting for a partition this transaction locked would
    -- otherwise deadlock with it.
    PERFORM devdiag.take_lock(7236113, 0);
    PERFORM devdiag.take_lock(7236112, 'devdiag.diag_run'::regclass::oid::integer);
    PERFORM devdiag.take_lock(7236112, 'devdiag.diag_run_archive'::regclass::oid::integer);
    LOCK TABLE devdiag.diag_run IN ACCESS EXCLUSIVE MODE;
    v_live := to_regclass(format('devdiag_part.%I', 'diag_run' || v_suffix));
    IF v_live IS NULL THEN
        RETURN 0;
    END IF;
    v_arch := to_regclass(format('devdiag_part.%I', v_arch_name));
    IF v_arch IS NULL AND EXISTS (
        SELECT FROM devdiag_part.diag_run_archive_default AS a WHERE a.ts >= v_from AND a.ts < v_to
    ) THEN
        v_arch := devdiag.run_partition_for_day('devdiag.diag_run_archive', p_day);
    END IF;
    -- Names below come from regclass values, %I and %L only.
    EXECUTE format('SELECT count(*) FROM %s', v_live) INTO n;

    IF v_arch IS NULL THEN
        EXECUTE format('ALTER TABLE devdiag.diag_run DETACH PARTITION %s', v_live);
        FOR c IN
            SELECT k.conname
            FROM pg_catalog.pg_constraint AS k
            WHERE k.conrelid = v_live AND k.contype = 'c' AND k.conname LIKE 'diag\_run\_%'
                AND k.conname NOT LIKE 'diag\_run\_archive\_%'
        LOOP
            EXECUTE format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I',
                v_live, c.conname, 'diag_run_archive_' || substr(c.conname, 10));
        END LOOP;
        EXECUTE format('ALTER TABLE %s ADD COLUMN archived_at timestamptz NOT NULL DEFAULT %L',
            v_live, now());
        EXECUTE format('ALTER TABLE %s ALTER COLUMN archived_at DROP DEFAULT', v_live);
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_constraint AS k
            WHERE k.conrelid = v_live AND k.contype = 'c' AND k.convalidated
                AND k.conname = v_bounds
        ) THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (ts >= %L AND ts < %L)',
                v_live, v_bounds, v_from, v_to);
        END IF;
        EXECUTE format('ALTER TABLE devdiag.diag_run_archive ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
            v_live, v_from, v_to);
        EXECUTE format('ALTER TABLE %s RENAME TO %I', v_live, v_arch_name);
    ELSE
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
        INTO v_cols
        FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = 'devdiag.diag_run'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('INSERT INTO %s (%s, archived_at) SELECT %s, now() FROM %s', v_arch, v_cols, v_cols, v_live);
        EXECUTE format('ALTER TABLE devdiag.diag_run DETACH PARTITION %s', v_live);
        EXECUTE format('DROP TABLE %s', v_live);
    END IF;
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.archive_run_day(date) IS
'Moves the diag_run partition of one UTC day to diag_run_archive (DETACH, ATTACH); returns how many runs it held.';
