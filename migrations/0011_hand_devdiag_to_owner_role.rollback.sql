-- Why: give the warehouse back to the login rolling back (its owner before
-- step 0011) and remove the access layer built on the group roles (policies,
-- row security, their grants, which sql/policies re-creates on the next
-- migrate), so nothing here keeps a group role in use.
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';

-- migrate acts as the schema owner; handing objects to the login must be done by the login.
RESET ROLE;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT p.polname, p.polrelid::regclass::text AS tbl
        FROM pg_catalog.pg_policy AS p
        JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
        WHERE c.relnamespace = 'devdiag'::regnamespace
        ORDER BY 2, 1
    LOOP
        -- Identifiers come from the catalog: %I quotes the policy name, regclass the table.
        EXECUTE format('DROP POLICY %I ON %s', r.polname, r.tbl);
    END LOOP;
    FOR r IN
        SELECT c.oid::regclass::text AS tbl
        FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace = 'devdiag'::regnamespace AND (c.relrowsecurity OR c.relforcerowsecurity)
        ORDER BY 1
    LOOP
        EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY', r.tbl);
    END LOOP;
END;
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA devdiag FROM devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA devdiag FROM devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL ROUTINES IN SCHEMA devdiag FROM devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON SCHEMA devdiag FROM devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;

DO $$
DECLARE
    r record;
BEGIN
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
            AND c.relowner = 'devdiag_owner'::regrole
            AND NOT (c.relkind = 'S' AND EXISTS (
                SELECT FROM pg_catalog.pg_depend AS d
                WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
            ))
        ORDER BY c.oid
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO SESSION_USER', r.kind, r.obj);
    END LOOP;
    FOR r IN
        SELECT p.oid::regprocedure::text AS obj, CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END AS kind
        FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace = 'devdiag'::regnamespace AND p.proowner = 'devdiag_owner'::regrole
        ORDER BY p.oid
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO SESSION_USER', r.kind, r.obj);
    END LOOP;
    FOR r IN
        SELECT t.oid::regtype::text AS obj
        FROM pg_catalog.pg_type AS t
        LEFT JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid
        WHERE t.typnamespace = 'devdiag'::regnamespace AND t.typowner = 'devdiag_owner'::regrole
            AND (t.typtype IN ('d', 'e', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
        ORDER BY t.oid
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO SESSION_USER', r.obj);
    END LOOP;
    ALTER SCHEMA devdiag OWNER TO SESSION_USER;
    -- The database's own name, quoted by %I.
    EXECUTE format('REVOKE CREATE ON DATABASE %I FROM devdiag_owner', current_database());
END;
$$;
