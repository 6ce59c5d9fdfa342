-- Why: a rollup kept by statement triggers on another table (sql/functions/595,
-- 596, 597) is exact only while those triggers are attached as written. They are
-- attached only when missing or different, so a no-op migrate takes no lock on
-- the busy table; the caller refills its rollup when this returns true, in the
-- same transaction, while CREATE TRIGGER holds that table's writers back.
CREATE OR REPLACE FUNCTION devdiag.rollup_attach_statement_triggers(
    p_table regclass,
    p_prefix text,
    p_function text
)
RETURNS boolean
LANGUAGE plpgsql
-- names print schema-qualified, as pg_get_triggerdef prints them
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    v_attached boolean := FALSE;
BEGIN
    FOR t IN
        SELECT
            n.name,
            format('CREATE TRIGGER %I AFTER %s ON %s %sFOR EACH STATEMENT EXECUTE FUNCTION %s()',
                n.name, v.event, p_table,
                CASE v.event
                    WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows '
                    WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows '
                    ELSE 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                END,
                p_function::regproc) AS def
        FROM (VALUES ('INSERT'), ('UPDATE'), ('DELETE')) AS v (event)
        CROSS JOIN LATERAL (SELECT p_prefix || lower(v.event) AS name) AS n
    LOOP
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_trigger AS g
            WHERE g.tgrelid = p_table AND g.tgname = t.name AND pg_catalog.pg_get_triggerdef(g.oid) = t.def
        ) THEN
            -- The definition is built above from a regclass, a regproc and %I.
            EXECUTE replace(t.def, 'CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER');
            v_attached := TRUE;
        END IF;
    END LOOP;
    RETURN v_attached;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_attach_statement_triggers(regclass, text, text) IS
'Attaches the INSERT, UPDATE and DELETE statement triggers <prefix><event> of a table to a function, '
'with transition tables, when missing or different; returns whether any was attached.';
