-- Why: roles are cluster-global and other warehouse databases of the cluster
-- may still use them, so the rollback drops only a group role that nothing in
-- any database refers to (no object, privilege, policy or default privilege)
-- and that has no member but the login rolling back; it keeps the others.
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT a.rolname, a.oid
        FROM pg_catalog.pg_roles AS a
        WHERE a.rolname IN ('devdiag_monitor', 'devdiag_analyst', 'devdiag_reader', 'devdiag_writer', 'devdiag_owner')
        ORDER BY a.rolname = 'devdiag_owner', a.rolname
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
