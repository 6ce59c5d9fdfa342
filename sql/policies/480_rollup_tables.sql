-- Why: the views are security_invoker, so a reader or analyst needs SELECT on
-- every rollup a view reads; the row policies (200) keep it to its tenants,
-- and without USAGE on devdiag_rollup it cannot name the tables itself. Every
-- table a rollup keeps (its registry row) is granted, so a new rollup needs
-- no file here.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.oid::regclass::text AS tbl
        FROM devdiag_rollup.rollup_registry AS r
        CROSS JOIN LATERAL unnest(string_to_array(r.keeps, ',')) AS k (name)
        INNER JOIN pg_catalog.pg_class AS c
            ON c.relnamespace = 'devdiag_rollup'::regnamespace AND c.relname = btrim(k.name)
        ORDER BY 1
    LOOP
        -- The table name comes from the catalog, quoted by the regclass output.
        EXECUTE format('GRANT SELECT ON %s TO devdiag_reader, devdiag_analyst', t.tbl);
    END LOOP;
END;
$$;
