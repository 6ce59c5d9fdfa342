-- Why: undo the baseline: the warehouse's schemas go with everything in them.
-- Roles are cluster-global and other warehouse databases of the cluster may
-- still use them, so a group role is dropped only when nothing in any
-- database refers to it (no object, privilege, policy or default privilege)
-- and it has no member but the login rolling back; the others are kept.
-- squawk-ignore-file ban-drop-schema
SET lock_timeout = '5s';
SET statement_timeout = '60s';

RESET ROLE;

DROP SCHEMA devdiag_ref CASCADE;
DROP SCHEMA devdiag_rollup CASCADE;
DROP SCHEMA devdiag_part CASCADE;
DROP SCHEMA devdiag CASCADE;

ALTER DEFAULT PRIVILEGES FOR ROLE devdiag_owner GRANT EXECUTE ON ROUTINES TO public;

DO $$
BEGIN
    -- The database's own name, quoted by %I.
    EXECUTE format('REVOKE CREATE ON DATABASE %I FROM devdiag_owner', current_database());
END;
$$;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT a.rolname, a.oid
        FROM pg_catalog.pg_roles AS a
        WHERE a.rolname IN ('devdiag_syncer', 'devdiag_monitor', 'devdiag_analyst', 'devdiag_reader', 'devdiag_writer', 'devdiag_owner')
        ORDER BY a.rolname = 'devdiag_owner', a.rolname = 'devdiag_writer', a.rolname
    LOOP
        IF EXISTS (
            SELECT FROM pg_catalog.pg_shdepend AS d
            WHERE d.refclassid = 'pg_catalog.pg_authid'::regclass AND d.refobjid = r.oid
        ) OR EXISTS (
            SELECT FROM pg_catalog.pg_auth_members AS m
            WHERE m.roleid = r.oid AND pg_catalog.pg_get_userbyid(m.member) <> current_user
        ) THEN
            RAISE NOTICE 'devdiag: keeping role % (still used in this cluster)', r.rolname;
            CONTINUE;
        END IF;
        BEGIN
            -- An identifier from the fixed list above, quoted by %I.
            EXECUTE format('DROP ROLE %I', r.rolname);
        EXCEPTION WHEN insufficient_privilege OR dependent_objects_still_exist THEN
            RAISE NOTICE 'devdiag: keeping role % (%)', r.rolname, sqlerrm;
        END;
    END LOOP;
END;
$$;
