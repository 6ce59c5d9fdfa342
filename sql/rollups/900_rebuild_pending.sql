-- Why: a step that changes what a rollup holds cannot rebuild it itself (the
-- folds are defined here in sql/, re-applied after the steps), so it sets
-- rebuild_pending; the rollups are then rebuilt here, once, after every fold
-- is defined, in the transaction that re-applies sql/ (writers wait meanwhile).
DO $$
BEGIN
    IF (SELECT s.rebuild_pending FROM devdiag_rollup.rollup_refresh_state AS s) THEN
        PERFORM devdiag.rollup_rebuild();
    END IF;
END;
$$;
