-- Why: undo 0005. The earlier release takes a purged day out of the rollups
-- in the purge itself and keeps no list: days purged and not yet refreshed
-- are dropped here, and the rollups are marked to be rebuilt from the runs
-- left the next time sql/ is applied (make migrate).
SET lock_timeout = '5s';

UPDATE devdiag_rollup.rollup_refresh_state
SET rebuild_pending = TRUE
WHERE EXISTS (SELECT FROM devdiag_rollup.rollup_purged_day);

DO $$
DECLARE
    v_part regclass;
BEGIN
    FOR v_part IN
        SELECT p.part FROM devdiag_rollup.rollup_purged_day AS p
        WHERE EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = p.part)
    LOOP
        EXECUTE format('DROP TABLE %s', v_part);
    END LOOP;
END;
$$;

DROP TABLE devdiag_rollup.rollup_purged_day;
