-- Why: runs are appended by writers, who may not change them; the owner
-- still may (a correction, a tenant's data erased on request, a move written
-- by hand). A refresh folds what has a new ingest id, so an updated run takes
-- a new id (BEFORE UPDATE) and is folded again as it now is, and the version
-- that left is queued in devdiag_rollup.rollup_run_change, with an id of its own, to
-- be taken out of the rollups by the refresh that folds that id. A version
-- that was folded (counted) leaves the counts; every version, counted or not,
-- has its target's episodes replayed from it: a refresh's replay reads the
-- raw runs, so it may have taken in a run committed after that refresh's safe
-- point, which only the next refresh counts. Whether a version was counted is
-- decided under the tenant's refresh lock, so a refresh either folded it and
-- committed before, or runs after and no longer sees it.
-- Rows moved out of a DEFAULT partition into their day's new partition keep
-- their ids and stay in the table; the partition maker marks that move with
-- the transaction-local devdiag.moving_runs, which only matters to a session
-- allowed to delete runs (the owner).
-- Row triggers without transition tables: the form a distributed table allows.
CREATE OR REPLACE FUNCTION devdiag.rollup_run_changed()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_WHEN = 'BEFORE' THEN
        NEW.ingest_id := nextval('devdiag.ingest_seq');
        RETURN NEW;
    END IF;
    IF current_setting('devdiag.moving_runs', TRUE) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM devdiag.take_lock(7236111, hashtext(OLD.tenant));
    INSERT INTO devdiag_rollup.rollup_run_change (tenant, ts, target_hash, env_fp, problems, counted)
    SELECT OLD.tenant, OLD.ts, OLD.target_hash, OLD.env_fp, OLD.problems,
        OLD.ingest_id <= greatest(s.folded_through, w.folded_through)
    FROM devdiag_rollup.rollup_refresh_state AS s
    LEFT JOIN devdiag_rollup.rollup_tenant_watermark AS w ON w.tenant = OLD.tenant;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_run_changed() IS
'Row triggers of diag_run and diag_run_archive: an updated run takes a new ingest id; the version of an updated '
'or deleted run is queued in rollup_run_change for the refresh to take out (when counted) and replay from.';

-- Why: a fix group is recomputed from fix_outcome by the refresh that folds a
-- row of it; an update writes the row with a new id (devdiag.stamp_ingest_id)
-- but may have left another group, and a delete leaves no row at all. The
-- group the old row belonged to is queued for the same recomputation.
CREATE OR REPLACE FUNCTION devdiag.rollup_fix_changed()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO devdiag_rollup.rollup_fix_change (tenant, problem_code, fix_code)
    VALUES (OLD.tenant, OLD.problem_code, OLD.fix_code);
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_fix_changed() IS
'Row trigger of fix_outcome: queues the group of an updated or deleted row for the refresh to recompute.';
