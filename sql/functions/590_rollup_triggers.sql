-- Why: the rollups are only exact if every change to the runs and fix outcomes
-- passes through the rollup triggers. Triggers are attached here (they need
-- the functions above, which migrations cannot call) and only when missing or
-- different, so a no-op migrate takes no lock on the busy tables. When one had
-- to be attached, the rollups are rebuilt from the raw rows in the same
-- transaction, while the new triggers already hold writers back.
DO $$
DECLARE
    t record;
    v_attached boolean := FALSE;
    v_path text := current_setting('search_path');
BEGIN
    -- Names print schema-qualified whatever the caller's search_path is.
    PERFORM set_config('search_path', 'pg_catalog', TRUE);
    FOR t IN
        SELECT
            tbl::regclass AS tbl, name,
            -- Statement triggers: one call per statement; transition tables need one event each.
            format('CREATE TRIGGER %I AFTER %s ON %s %sFOR EACH STATEMENT EXECUTE FUNCTION %s()',
                name, event, tbl::regclass,
                CASE event
                    WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows '
                    WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows '
                    WHEN 'UPDATE' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                    ELSE ''
                END,
                fn) AS def
        FROM (VALUES
            ('devdiag.diag_run', 'INSERT', 'devdiag.rollup_runs_trigger'),
            ('devdiag.diag_run', 'UPDATE', 'devdiag.rollup_runs_trigger'),
            ('devdiag.diag_run', 'DELETE', 'devdiag.rollup_runs_trigger'),
            ('devdiag.diag_run', 'TRUNCATE', 'devdiag.rollup_truncate_trigger'),
            ('devdiag.diag_run_archive', 'INSERT', 'devdiag.rollup_runs_trigger'),
            ('devdiag.diag_run_archive', 'UPDATE', 'devdiag.rollup_runs_trigger'),
            ('devdiag.diag_run_archive', 'DELETE', 'devdiag.rollup_runs_trigger'),
            ('devdiag.diag_run_archive', 'TRUNCATE', 'devdiag.rollup_truncate_trigger'),
            ('devdiag.fix_outcome', 'INSERT', 'devdiag.rollup_fix_trigger'),
            ('devdiag.fix_outcome', 'UPDATE', 'devdiag.rollup_fix_trigger'),
            ('devdiag.fix_outcome', 'DELETE', 'devdiag.rollup_fix_trigger'),
            ('devdiag.fix_outcome', 'TRUNCATE', 'devdiag.rollup_truncate_trigger')
        ) AS v (tbl, event, fn)
        CROSS JOIN LATERAL (SELECT 'rollup_after_' || lower(v.event) AS name) AS n
    LOOP
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_trigger AS g
            WHERE g.tgrelid = t.tbl AND g.tgname = t.name AND pg_catalog.pg_get_triggerdef(g.oid) = t.def
        ) THEN
            -- The definition is built above from constants and catalog names.
            EXECUTE replace(t.def, 'CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER');
            v_attached := TRUE;
        END IF;
    END LOOP;
    PERFORM set_config('search_path', v_path, TRUE);
    IF v_attached THEN
        PERFORM devdiag.rollup_rebuild();
    END IF;
END;
$$;
