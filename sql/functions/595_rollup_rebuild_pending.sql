-- Why: a warehouse upgraded to the refresh design holds rows whose ingest id
-- says they are folded while nothing here can tell whether its rollups hold
-- them (one rolled back and written without the old triggers would not), so
-- the step marks it rebuild_pending and its rollups are rebuilt here, once,
-- in the transaction that re-applies sql/ (writers wait meanwhile).
DO $$
BEGIN
    IF (SELECT s.rebuild_pending FROM devdiag_rollup.rollup_refresh_state AS s) THEN
        PERFORM devdiag.rollup_rebuild();
    END IF;
END;
$$;
