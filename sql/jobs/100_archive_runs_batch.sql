-- Why: move the oldest runs past retention to the archive in one statement,
-- so a batch is atomic (no row lost or duplicated if interrupted) and two
-- concurrent jobs take disjoint rows (SKIP LOCKED). The cost per row must not
-- grow with the table: the ts index finds the batch, and the DELETE reaches
-- the locked rows by their ctid (a TID scan), where a join on the key let the
-- planner hash the whole live table (700 ms of a 10,000-run batch at 1M runs).
-- A move changes no analytics result (the views count live and archived runs
-- alike), so the statement tells the rollup triggers so and they skip their
-- work: the note is this transaction's id, set just for the move statement,
-- and honoured only for DELETE on diag_run and INSERT into diag_run_archive,
-- which only the owner may do (see 540_rollup_runs_trigger.sql).
CREATE OR REPLACE FUNCTION devdiag.archive_runs_batch(
    p_limit integer DEFAULT NULL,
    p_cutoff timestamptz DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_limit integer := coalesce(p_limit, (devdiag.setting('retention_batch_size'))::integer, 10000);
    v_cutoff timestamptz := coalesce(
        p_cutoff, now() - make_interval(days => (devdiag.setting('retention_days'))::integer));
    n integer;
BEGIN
    PERFORM set_config('devdiag.rollup_move_xact', pg_current_xact_id()::text, TRUE);
    WITH picked AS (
        SELECT d.ctid
        FROM devdiag.diag_run AS d
        WHERE d.ts < v_cutoff
        ORDER BY d.ts
        LIMIT v_limit
        FOR UPDATE SKIP LOCKED
    ),
    moved AS (
        DELETE FROM devdiag.diag_run AS d
        WHERE d.ctid = ANY (ARRAY(SELECT p.ctid FROM picked AS p))
        RETURNING d.*
    )
    INSERT INTO devdiag.diag_run_archive (
        id, ts, tenant, target_hash, env_fp, problems, evidence, preset,
        source_id, source_run_id, archived_at
    )
    SELECT
        m.id, m.ts, m.tenant, m.target_hash, m.env_fp, m.problems, m.evidence, m.preset,
        m.source_id, m.source_run_id, now()
    FROM moved AS m;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('devdiag.rollup_move_xact', '', TRUE);
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.archive_runs_batch(integer, timestamptz) IS
'Moves up to p_limit runs older than retention_days (or p_cutoff) from diag_run to diag_run_archive; returns how many.';
