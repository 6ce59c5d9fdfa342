-- Why: the registry's folds are called from the refresh, from the purge of an
-- archive day and from the purge of fix outcomes; each kind of fold is walked
-- here once, so a new rollup is called everywhere by its registry row alone.
-- Folds of runs take signed runs; folds of targets take each target once with
-- the earliest ts that came or went, in chunks that bound the replay's
-- memory (each chunk's share of the runs from the earliest ts on is about
-- four million at most: a backfill of every target reads the days a few
-- times, not once per few thousand targets); folds of fix outcomes take the
-- groups to recompute.
CREATE OR REPLACE FUNCTION devdiag.rollup_apply_runs(
    p_tenant text[],
    p_ts timestamptz[],
    p_target text[],
    p_env text[],
    p_problems jsonb[],
    p_sign integer[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fold regproc;
BEGIN
    IF p_tenant IS NULL THEN
        RETURN;
    END IF;
    FOR v_fold IN
        SELECT g.fold::regproc FROM devdiag_rollup.rollup_registry AS g WHERE g.source = 'runs' ORDER BY g.position
    LOOP
        -- The fold is a function name the registry holds, quoted as a regproc.
        EXECUTE format('SELECT %s($1, $2, $3, $4, $5, $6)', v_fold)
        USING p_tenant, p_ts, p_target, p_env, p_problems, p_sign;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_apply_runs(text[], timestamptz[], text[], text[], jsonb[], integer[]) IS
'Hands signed runs (1 in, -1 out) to every fold of runs in the registry.';

CREATE OR REPLACE FUNCTION devdiag.rollup_apply_targets(
    p_tenant text[],
    p_target text[],
    p_from timestamptz[],
    p_reports boolean[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fold regproc;
    v_from timestamptz;
    v_rows numeric;
    v_chunk integer;
    i integer;
BEGIN
    IF p_tenant IS NULL THEN
        RETURN;
    END IF;
    -- The folds read partitions directly (sizes, the DEFAULT partitions).
    -- Retention locks a run table before its partitions, live before
    -- archive: so does this, or a fold holding the archive's DEFAULT
    -- partition would wait on the live one while retention, holding that,
    -- waits on the archive's.
    LOCK TABLE ONLY devdiag.diag_run, ONLY devdiag.diag_run_archive IN ACCESS SHARE MODE;
    SELECT min(u.t0) INTO v_from FROM unnest(p_from) AS u (t0);
    SELECT e.est_rows INTO v_rows FROM devdiag.run_rows_estimate(v_from, TRUE) AS e;
    v_chunk := greatest(5000, ceil(cardinality(p_tenant) / greatest(1, ceil(v_rows / 4000000))))::integer;
    FOR v_fold IN
        SELECT g.fold::regproc FROM devdiag_rollup.rollup_registry AS g WHERE g.source = 'run_targets' ORDER BY g.position
    LOOP
        i := 1;
        WHILE i <= cardinality(p_tenant) LOOP
            -- The fold is a function name the registry holds, quoted as a regproc.
            EXECUTE format('SELECT %s($1, $2, $3, $4)', v_fold)
            USING p_tenant[i:i + v_chunk - 1], p_target[i:i + v_chunk - 1], p_from[i:i + v_chunk - 1],
                p_reports[i:i + v_chunk - 1];
            i := i + v_chunk;
        END LOOP;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_apply_targets(text[], text[], timestamptz[], boolean[]) IS
'Hands targets (with the earliest ts that came or went, and whether such a run reports a problem) '
'to every fold of targets in the registry.';

CREATE OR REPLACE FUNCTION devdiag.rollup_apply_fix_groups(p_tenant text[], p_problem text[], p_fix text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fold regproc;
BEGIN
    IF p_tenant IS NULL THEN
        RETURN;
    END IF;
    FOR v_fold IN
        SELECT g.fold::regproc FROM devdiag_rollup.rollup_registry AS g WHERE g.source = 'fix_outcome' ORDER BY g.position
    LOOP
        -- The fold is a function name the registry holds, quoted as a regproc.
        EXECUTE format('SELECT %s($1, $2, $3)', v_fold) USING p_tenant, p_problem, p_fix;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_apply_fix_groups(text[], text[], text[]) IS
'Hands fix groups (tenant, problem, fix) to every fold of fix outcomes in the registry.';
