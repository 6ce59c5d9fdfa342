-- Why: the warehouse belongs to the NOLOGIN role devdiag_owner, not to the
-- DBA login that happened to create it, so FORCE ROW LEVEL SECURITY binds
-- every login alike, DBA logins can be rotated, and migrate (which acts as
-- the schema owner from here on) can replace every function and view.
-- depends: 0010_create_group_roles
SET lock_timeout = '5s';
SET statement_timeout = '60s';

-- A schema's owner needs CREATE on its database (also for schemas later steps add).
DO $$
BEGIN
    -- The database's own name, quoted by %I.
    EXECUTE format('GRANT CREATE ON DATABASE %I TO devdiag_owner', current_database());
END;
$$;

ALTER SCHEMA devdiag OWNER TO devdiag_owner;

DO $$
DECLARE
    r record;
BEGIN
    -- Relations; sequences owned by a column follow their table.
    FOR r IN
        SELECT
            c.oid::regclass::text AS obj,
            CASE c.relkind
                WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE'
            END AS kind
        FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace = 'devdiag'::regnamespace
            AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            AND c.relowner <> 'devdiag_owner'::regrole
            AND NOT (c.relkind = 'S' AND EXISTS (
                SELECT FROM pg_catalog.pg_depend AS d
                WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
            ))
        ORDER BY c.oid
    LOOP
        -- Identifiers come from the catalog, already quoted by the regclass output.
        EXECUTE format('ALTER %s %s OWNER TO devdiag_owner', r.kind, r.obj);
    END LOOP;
    -- Functions, procedures, aggregates (repeatables from sql/ live here too).
    FOR r IN
        SELECT p.oid::regprocedure::text AS obj, CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END AS kind
        FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace = 'devdiag'::regnamespace AND p.proowner <> 'devdiag_owner'::regrole
        ORDER BY p.oid
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO devdiag_owner', r.kind, r.obj);
    END LOOP;
    -- Standalone types: composite, domain, enum, range (row types follow their table).
    FOR r IN
        SELECT t.oid::regtype::text AS obj
        FROM pg_catalog.pg_type AS t
        LEFT JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid
        WHERE t.typnamespace = 'devdiag'::regnamespace AND t.typowner <> 'devdiag_owner'::regrole
            AND (t.typtype IN ('d', 'e', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
        ORDER BY t.oid
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO devdiag_owner', r.obj);
    END LOOP;
END;
$$;
