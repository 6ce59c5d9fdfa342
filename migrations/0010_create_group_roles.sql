-- Why: access is granted to five NOLOGIN group roles, never to logins, so a
-- login can do exactly what its memberships allow; roles are cluster-global
-- and shared by every warehouse database of the cluster, so each is created
-- only when missing, and the migrating login joins devdiag_owner so it keeps
-- migrating once that role owns the warehouse (step 0011).
-- depends: 0004_create_diag_run_archive
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DO $$
DECLARE
    missing text[];
    unsafe text[];
BEGIN
    SELECT array_agg(w.rolname ORDER BY w.ord) INTO missing
    FROM unnest(ARRAY['devdiag_owner', 'devdiag_writer', 'devdiag_reader', 'devdiag_analyst', 'devdiag_monitor'])
        WITH ORDINALITY AS w (rolname, ord)
    WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles AS r WHERE r.rolname = w.rolname);

    IF missing IS NOT NULL AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_roles AS r
        WHERE r.rolname = current_user AND (r.rolcreaterole OR r.rolsuper)
    ) THEN
        RAISE EXCEPTION 'devdiag: role(s) % do not exist and the migrating login % lacks the CREATEROLE privilege to create them',
            array_to_string(missing, ', '), current_user
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'Give the login CREATEROLE (ALTER ROLE ... CREATEROLE), or have an administrator create the '
            'roles as NOLOGIN and GRANT devdiag_owner TO the login; see README, Roles and tenant isolation.';
    END IF;

    -- Another database of the cluster may create the same role at the same moment.
    IF 'devdiag_owner' = ANY(missing) THEN
        BEGIN
            CREATE ROLE devdiag_owner NOLOGIN;
            COMMENT ON ROLE devdiag_owner IS
            'DevDiag warehouse: owns every object of schema devdiag; DBA logins are members and migrate as it.';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF 'devdiag_writer' = ANY(missing) THEN
        BEGIN
            CREATE ROLE devdiag_writer NOLOGIN;
            COMMENT ON ROLE devdiag_writer IS
            'DevDiag warehouse: ingestion (DevDiag writers, the SQLite sync); inserts runs and fix outcomes for any tenant.';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF 'devdiag_reader' = ANY(missing) THEN
        BEGIN
            CREATE ROLE devdiag_reader NOLOGIN;
            COMMENT ON ROLE devdiag_reader IS
            'DevDiag warehouse: Tableau, Grafana and psql users; reads only the tenants devdiag.tenant_grant maps to it.';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF 'devdiag_analyst' = ANY(missing) THEN
        BEGIN
            CREATE ROLE devdiag_analyst NOLOGIN;
            COMMENT ON ROLE devdiag_analyst IS 'DevDiag warehouse: reads every tenant, writes nothing.';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF 'devdiag_monitor' = ANY(missing) THEN
        BEGIN
            CREATE ROLE devdiag_monitor NOLOGIN;
            COMMENT ON ROLE devdiag_monitor IS
            'DevDiag warehouse: monitoring; reads aggregates (devdiag.v_monitor_*) without tenant rows or target hashes.';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;

    -- SET ROLE to a group role gives its attributes: a group role that can log in,
    -- bypass RLS or create roles would hand that to every member.
    SELECT array_agg(r.rolname ORDER BY r.rolname) INTO unsafe
    FROM pg_catalog.pg_roles AS r
    WHERE r.rolname IN ('devdiag_owner', 'devdiag_writer', 'devdiag_reader', 'devdiag_analyst', 'devdiag_monitor')
        AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolcanlogin);
    IF unsafe IS NOT NULL THEN
        RAISE EXCEPTION 'devdiag: group role(s) % exist with LOGIN, SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION',
            array_to_string(unsafe, ', ')
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'Every member could SET ROLE to it and gain that attribute: ALTER ROLE ... NOLOGIN NOBYPASSRLS ... first.';
    END IF;

    IF NOT pg_catalog.pg_has_role(current_user, 'devdiag_owner', 'USAGE') THEN
        BEGIN
            GRANT devdiag_owner TO CURRENT_USER;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'devdiag: the migrating login % is not a member of devdiag_owner and may not grant it to itself',
                current_user
                USING ERRCODE = 'insufficient_privilege',
                HINT = 'A role with ADMIN OPTION on devdiag_owner (its creator, or a superuser) must run: GRANT devdiag_owner TO '
                || quote_ident(current_user) || ';';
        END;
    END IF;
END;
$$;
