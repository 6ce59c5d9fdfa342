-- Why: every table holding tenant rows (any table of devdiag or devdiag_rollup
-- with a tenant column, whoever adds it) gets the same row security: ENABLE and FORCE, so
-- the owner is bound too, and one policy per role and command. Policies decide
-- which rows a role may touch; the files after this one grant which commands
-- it may run. A policy is re-created only when its definition or its state
-- changed (both kept in its comment: the text below and a fingerprint of the
-- stored policy, so one altered by hand is put back), so a no-op migrate
-- takes no lock on busy tables.
DO $$
DECLARE
    t record;
    p record;
    v_def text;
    v_state text;
BEGIN
    FOR t IN
        SELECT c.oid, c.oid::regclass::text AS tbl, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_attribute AS a ON c.oid = a.attrelid AND a.attname = 'tenant' AND NOT a.attisdropped
        WHERE c.relnamespace IN ('devdiag'::regnamespace, 'devdiag_rollup'::regnamespace) AND c.relkind IN ('r', 'p') AND c.relname <> 'tenant_grant'
        ORDER BY c.oid
    LOOP
        -- Identifiers come from the catalog (regclass output is quoted); the
        -- policy texts are the constants below.
        IF NOT t.relrowsecurity THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.tbl);
        END IF;
        IF NOT t.relforcerowsecurity THEN
            EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t.tbl);
        END IF;
        FOR p IN
            SELECT s.name, s.def
            FROM (VALUES
                -- Maintenance (migrations, jobs, backups by DBA logins) reads and changes every tenant.
                ('tenant_owner_all', 'FOR ALL TO devdiag_owner USING (TRUE) WITH CHECK (TRUE)'),
                -- A reader sees the tenants mapped to its role, evaluated once per query.
                ('tenant_reader_select',
                    'FOR SELECT TO devdiag_reader USING (tenant = ANY ((SELECT devdiag.allowed_tenants())::text[]))'),
                -- The analyst sees every tenant; app.current_tenant may narrow it to one.
                ('tenant_analyst_select',
                    $p$FOR SELECT TO devdiag_analyst USING (tenant = coalesce((SELECT nullif(current_setting('app.current_tenant', TRUE), '')), tenant))$p$),
                -- Ingestion writes any tenant; reading back is what INSERT ... ON CONFLICT needs.
                ('tenant_writer_select', 'FOR SELECT TO devdiag_writer USING (TRUE)'),
                ('tenant_writer_insert', 'FOR INSERT TO devdiag_writer WITH CHECK (TRUE)'),
                ('tenant_writer_update', 'FOR UPDATE TO devdiag_writer USING (TRUE) WITH CHECK (TRUE)')
            ) AS s (name, def)
        LOOP
            v_def := p.def;
            IF EXISTS (
                SELECT FROM pg_catalog.pg_policy AS x
                WHERE x.polrelid = t.oid AND x.polname = p.name
                    AND obj_description(x.oid, 'pg_policy') = v_def || ' -- state ' || md5(concat_ws(
                        '|', x.polcmd, x.polpermissive, x.polroles::text, x.polqual::text, x.polwithcheck::text
                    ))
            ) THEN
                CONTINUE;
            END IF;
            EXECUTE format('DROP POLICY IF EXISTS %I ON %s', p.name, t.tbl);
            EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE %s', p.name, t.tbl, v_def);
            SELECT md5(concat_ws('|', x.polcmd, x.polpermissive, x.polroles::text, x.polqual::text, x.polwithcheck::text))
            INTO v_state
            FROM pg_catalog.pg_policy AS x
            WHERE x.polrelid = t.oid AND x.polname = p.name;
            EXECUTE format('COMMENT ON POLICY %I ON %s IS %L', p.name, t.tbl, v_def || ' -- state ' || v_state);
        END LOOP;
    END LOOP;
END;
$$;
