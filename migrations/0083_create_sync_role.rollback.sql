-- Why: roles are cluster-global and other warehouse databases of the cluster
-- may still use devdiag_syncer, so it is dropped only when nothing in any
-- database refers to it and it has no member but the login rolling back.
-- Its grants in this database come from sql/policies and go first.
SET lock_timeout = '5s';
SET statement_timeout = '60s';

RESET ROLE;

DO $$
DECLARE
    v_oid oid := (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = 'devdiag_syncer');
BEGIN
    IF v_oid IS NULL THEN
        RETURN;
    END IF;
    EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA devdiag FROM devdiag_syncer';
    IF EXISTS (
        SELECT FROM pg_catalog.pg_shdepend AS d
        WHERE d.refclassid = 'pg_catalog.pg_authid'::regclass AND d.refobjid = v_oid
    ) OR EXISTS (
        SELECT FROM pg_catalog.pg_auth_members AS m
        WHERE m.roleid = v_oid AND pg_catalog.pg_get_userbyid(m.member) <> current_user
    ) THEN
        RAISE NOTICE 'devdiag: keeping role devdiag_syncer (still used in this cluster)';
        RETURN;
    END IF;
    BEGIN
        DROP ROLE devdiag_syncer;
    EXCEPTION WHEN insufficient_privilege OR dependent_objects_still_exist THEN
        RAISE NOTICE 'devdiag: keeping role devdiag_syncer (%)', sqlerrm;
    END;
END;
$$;
