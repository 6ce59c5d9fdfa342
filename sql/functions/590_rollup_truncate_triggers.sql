-- Why: a TRUNCATE of the runs or fix outcomes takes rows no refresh can see
-- leave; the rollups are rebuilt from what is left in the same transaction
-- (sql/functions/560). The triggers are attached only when missing or
-- different, so a no-op migrate takes no lock on the busy tables.
DO $$
DECLARE
    t record;
    v_path text := current_setting('search_path');
BEGIN
    -- Names print schema-qualified whatever the caller's search_path is.
    PERFORM set_config('search_path', 'pg_catalog', TRUE);
    FOR t IN
        SELECT
            v.tbl::regclass AS tbl,
            format('CREATE TRIGGER rollup_after_truncate AFTER TRUNCATE ON %s FOR EACH STATEMENT '
                'EXECUTE FUNCTION devdiag.rollup_truncate_trigger()', v.tbl::regclass) AS def
        FROM (VALUES ('devdiag.diag_run'), ('devdiag.diag_run_archive'), ('devdiag.fix_outcome')) AS v (tbl)
    LOOP
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_trigger AS g
            WHERE g.tgrelid = t.tbl AND g.tgname = 'rollup_after_truncate' AND pg_catalog.pg_get_triggerdef(g.oid) = t.def
        ) THEN
            -- The definition is built above from constants and catalog names.
            EXECUTE replace(t.def, 'CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER');
        END IF;
    END LOOP;
    PERFORM set_config('search_path', v_path, TRUE);
END;
$$;
