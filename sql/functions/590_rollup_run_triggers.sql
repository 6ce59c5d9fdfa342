-- Why: the triggers the rollups need on the runs and fix outcomes (sql/functions/560, 580):
-- a TRUNCATE rebuilds the rollups from what is left; an UPDATE or DELETE
-- queues the version that left (of a run) or its group (of a fix outcome). None reads a transition table. They are
-- attached only when missing or different, so a no-op migrate takes no lock
-- on the busy tables.
DO $$
DECLARE
    t record;
    v_path text := current_setting('search_path');
BEGIN
    -- Names print schema-qualified whatever the caller's search_path is.
    PERFORM set_config('search_path', 'pg_catalog', TRUE);
    FOR t IN
        SELECT
            v.tbl::regclass AS tbl, v.name,
            format('CREATE TRIGGER %I %s ON %s FOR EACH %s EXECUTE FUNCTION %s()',
                v.name, v.event, v.tbl::regclass, v.level, v.fn) AS def
        FROM (VALUES
            ('devdiag.diag_run', 'rollup_after_truncate', 'AFTER TRUNCATE', 'STATEMENT', 'devdiag.rollup_truncate_trigger'),
            ('devdiag.diag_run_archive', 'rollup_after_truncate', 'AFTER TRUNCATE', 'STATEMENT', 'devdiag.rollup_truncate_trigger'),
            ('devdiag.fix_outcome', 'rollup_after_truncate', 'AFTER TRUNCATE', 'STATEMENT', 'devdiag.rollup_truncate_trigger'),
            ('devdiag.diag_run', 'rollup_run_before_update', 'BEFORE UPDATE', 'ROW', 'devdiag.rollup_run_changed'),
            ('devdiag.diag_run', 'rollup_run_after_change', 'AFTER DELETE OR UPDATE', 'ROW', 'devdiag.rollup_run_changed'),
            ('devdiag.diag_run_archive', 'rollup_run_before_update', 'BEFORE UPDATE', 'ROW', 'devdiag.rollup_run_changed'),
            ('devdiag.diag_run_archive', 'rollup_run_after_change', 'AFTER DELETE OR UPDATE', 'ROW', 'devdiag.rollup_run_changed'),
            ('devdiag.fix_outcome', 'rollup_fix_after_change', 'AFTER DELETE OR UPDATE', 'ROW', 'devdiag.rollup_fix_changed')
        ) AS v (tbl, name, event, level, fn)
    LOOP
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_trigger AS g
            WHERE g.tgrelid = t.tbl AND g.tgname = t.name AND pg_catalog.pg_get_triggerdef(g.oid) = t.def
        ) THEN
            -- The definition is built above from constants and catalog names.
            EXECUTE replace(t.def, 'CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER');
        END IF;
    END LOOP;
    PERFORM set_config('search_path', v_path, TRUE);
END;
$$;
