-- Why: only the sync may write a run's source identity (source_id,
-- source_run_id) and the sync's own state (watermarks, rejects, per-source
-- fix outcomes); a direct writer that could would forge another store's
-- identity and make the sync skip the real run. The sync's login joins
-- devdiag_syncer, which is a member of devdiag_writer (so it keeps the
-- writer's rows and policies) and alone holds those privileges
-- (sql/policies). Created only when missing, like the roles of step 0010.
-- depends: 0082_add_max_future_minutes_setting
SET lock_timeout = '5s';
SET statement_timeout = '60s';

-- Creating a role needs the login's CREATEROLE, not the schema owner's rights.
RESET ROLE;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = 'devdiag_syncer') THEN
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_roles AS r
            WHERE r.rolname = current_user AND (r.rolcreaterole OR r.rolsuper)
        ) THEN
            RAISE EXCEPTION 'devdiag: role devdiag_syncer does not exist and the migrating login % lacks the '
                'CREATEROLE privilege to create it', current_user
                USING ERRCODE = 'insufficient_privilege',
                HINT = 'Give the login CREATEROLE, or have an administrator run: CREATE ROLE devdiag_syncer NOLOGIN; '
                'GRANT devdiag_writer TO devdiag_syncer;';
        END IF;
        BEGIN
            CREATE ROLE devdiag_syncer NOLOGIN;
            COMMENT ON ROLE devdiag_syncer IS
            'DevDiag warehouse: the SQLite sync; a writer that may also write source identity and sync state.';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;

    IF EXISTS (
        SELECT FROM pg_catalog.pg_roles AS r
        WHERE r.rolname = 'devdiag_syncer'
            AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolcanlogin)
    ) THEN
        RAISE EXCEPTION 'devdiag: group role devdiag_syncer exists with LOGIN, SUPERUSER, BYPASSRLS, CREATEROLE, '
            'CREATEDB or REPLICATION'
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'Every member could SET ROLE to it and gain that attribute: ALTER ROLE ... NOLOGIN NOBYPASSRLS ... first.';
    END IF;

    IF NOT EXISTS (
        SELECT FROM pg_catalog.pg_auth_members AS m
        WHERE m.roleid = 'devdiag_writer'::regrole AND m.member = 'devdiag_syncer'::regrole
    ) THEN
        BEGIN
            GRANT devdiag_writer TO devdiag_syncer;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'devdiag: the migrating login % may not grant devdiag_writer to devdiag_syncer', current_user
                USING ERRCODE = 'insufficient_privilege',
                HINT = 'A role with ADMIN OPTION on devdiag_writer must run: GRANT devdiag_writer TO devdiag_syncer;';
        END;
    END IF;
END;
$$;
