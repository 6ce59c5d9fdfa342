-- Why: the warehouse as it is meant to be read, in one step: the group roles,
-- the schemas, the functions the row checks call, the run, fix and sync
-- tables, and the rollups with their refresh state. Views, functions,
-- policies, grants and jobs live in sql/ and are re-applied by every migrate.
-- A database built by the unreleased steps this baseline folds is adopted by
-- make migrate when its catalog matches (sql/migrate/baseline_catalog.sql).
-- Every table is new in this step; the integer columns hold positions and day counts.
-- squawk-ignore-file require-concurrent-index-creation, prefer-robust-stmts, prefer-bigint-over-int
SET lock_timeout = '5s';
SET statement_timeout = '60s';

-- Roles ----------------------------------------------------------------------
-- Access is granted to NOLOGIN group roles, never to logins, so a login can
-- do exactly what its memberships allow. Roles are cluster-global and shared
-- by every warehouse database of the cluster: each is created only when
-- missing, and the migrating login joins devdiag_owner, which owns the
-- warehouse, so FORCE ROW LEVEL SECURITY binds every login alike and DBA
-- logins can be rotated.
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

-- devdiag_syncer: the SQLite sync, a writer that may also write a run's
-- source identity and the sync's state.
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

-- A schema's owner needs CREATE on its database.
DO $$
BEGIN
    -- The database's own name, quoted by %I.
    EXECUTE format('GRANT CREATE ON DATABASE %I TO devdiag_owner', current_database());
END;
$$;

-- Everything below belongs to devdiag_owner.
SET LOCAL ROLE devdiag_owner;

-- PostgreSQL lets PUBLIC execute every new function by default; here a routine
-- is executable only by the roles sql/policies grants it to.
ALTER DEFAULT PRIVILEGES FOR ROLE devdiag_owner REVOKE EXECUTE ON ROUTINES FROM public;

-- Schemas --------------------------------------------------------------------
CREATE SCHEMA devdiag;
COMMENT ON SCHEMA devdiag IS
'DevDiag analytics warehouse: diagnostic runs, learned fix outcomes and the analytics views built on them.';

CREATE SCHEMA devdiag_part;
COMMENT ON SCHEMA devdiag_part IS
'Day partitions of devdiag.diag_run and devdiag.diag_run_archive; read them through their parent tables.';

CREATE SCHEMA devdiag_rollup;
COMMENT ON SCHEMA devdiag_rollup IS
'Rollups behind the devdiag views, folded by devdiag.refresh_rollups(); owner only (readers reach them through the views).';

CREATE SCHEMA devdiag_ref;
COMMENT ON SCHEMA devdiag_ref IS
'Raw-data reference forms of the contract views (v_ref_*) and the episode replay; owner only, for tests and make bench.';

-- Row limits -----------------------------------------------------------------
-- One definition of the byte limits of a row, used by the CHECKs below and
-- read by the sync, so both refuse the same rows.
CREATE FUNCTION devdiag.row_limit(p_name text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE p_name
    WHEN 'tenant' THEN 128
    WHEN 'problem_code' THEN 256
    WHEN 'fix_code' THEN 256
    WHEN 'env_fp' THEN 512
    WHEN 'evidence' THEN 32768
END;
COMMENT ON FUNCTION devdiag.row_limit(p_name text) IS
'Row limits in bytes (UTF-8): tenant, problem_code, fix_code, env_fp, evidence (as JSON text); enforced by the *_within_limit checks and read by the sync.';

CREATE FUNCTION devdiag.longest_problem_code(p_problems jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
    -- the parameter is qualified by the function name, which sqlfluff cannot resolve
    SELECT coalesce(max(octet_length(c.code)), 0)
    FROM jsonb_array_elements_text(
        CASE
            WHEN jsonb_typeof(longest_problem_code.p_problems) = 'array' THEN longest_problem_code.p_problems  -- noqa: RF01
            ELSE '[]'
        END
    ) AS c (code)
);
COMMENT ON FUNCTION devdiag.longest_problem_code(p_problems jsonb) IS
'Length in bytes of the longest problem code of a problems array (0 when it is not an array).';

-- Ingest ids: the order rows were written in; the rollups are folded up to a
-- watermark of it.
CREATE SEQUENCE devdiag.ingest_seq;
COMMENT ON SEQUENCE devdiag.ingest_seq IS
'Ingest ids of runs and fix outcomes, in the order they were written; the rollups are folded up to a watermark of it.';

-- Runs, fix outcomes, grants, sync state --------------------------------------
CREATE TABLE devdiag.settings (
    key text NOT NULL,
    value jsonb NOT NULL,
    description text NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT settings_key_not_empty CHECK ((key <> ''::text)),
    CONSTRAINT settings_pkey PRIMARY KEY (key)
);
COMMENT ON TABLE devdiag.settings IS 'Operational policy read by jobs and scripts at run time (retention, privacy, learning parameters).';

CREATE TABLE devdiag.diag_run (
    id bigint GENERATED BY DEFAULT AS IDENTITY,
    ts timestamptz DEFAULT now() NOT NULL,
    tenant text NOT NULL,
    target_hash text NOT NULL,
    env_fp text,
    problems jsonb DEFAULT '[]'::jsonb NOT NULL,
    evidence jsonb DEFAULT '{}'::jsonb NOT NULL,
    preset text,
    source_id bigint,
    source_run_id bigint,
    ingest_id bigint DEFAULT nextval('devdiag.ingest_seq'::regclass) NOT NULL,
    CONSTRAINT diag_run_env_fp_within_limit CHECK ((octet_length(env_fp) <= devdiag.row_limit('env_fp'::text))),
    CONSTRAINT diag_run_evidence_is_object CHECK ((jsonb_typeof(evidence) = 'object'::text)),
    CONSTRAINT diag_run_evidence_within_limit CHECK ((octet_length((evidence)::text) <= devdiag.row_limit('evidence'::text))),
    CONSTRAINT diag_run_preset_known CHECK ((preset = any(ARRAY['chat'::text, 'embed'::text, 'app'::text, 'full'::text]))),
    CONSTRAINT diag_run_problem_code_within_limit CHECK (
        (
            (pg_column_size(problems) <= devdiag.row_limit('problem_code'::text))
            OR (devdiag.longest_problem_code(problems) <= devdiag.row_limit('problem_code'::text))
        )
    ),
    CONSTRAINT diag_run_problems_is_array_of_strings CHECK (
        ((jsonb_typeof(problems) = 'array'::text) AND (NOT jsonb_path_exists(problems, 'strict $[*]?(@.type() != "string" || @ == "")'::jsonpath)))
    ),
    CONSTRAINT diag_run_source_identity_complete CHECK (((source_id IS NULL) = (source_run_id IS NULL))),
    CONSTRAINT diag_run_target_hash_is_lowercase_hex_digest CHECK (
        length(target_hash) BETWEEN 32 AND 128 AND length(target_hash) % 2 = 0 AND target_hash ~ '^[0-9a-f]+$'
    ),
    CONSTRAINT diag_run_tenant_not_empty CHECK ((btrim(tenant, E' \t\r\n'::text) <> ''::text)),
    CONSTRAINT diag_run_tenant_within_limit CHECK ((octet_length(tenant) <= devdiag.row_limit('tenant'::text))),
    CONSTRAINT diag_run_ts_is_finite CHECK (isfinite(ts)),
    CONSTRAINT diag_run_pkey PRIMARY KEY (tenant, id, ts),
    CONSTRAINT diag_run_source_identity_unique UNIQUE (tenant, source_id, source_run_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE devdiag_part.diag_run_default PARTITION OF devdiag.diag_run DEFAULT;
CREATE INDEX diag_run_ingest_brin ON devdiag.diag_run USING brin (tenant, ingest_id) WITH (autosummarize = 'on');
CREATE INDEX diag_run_tenant_target_ts_idx ON devdiag.diag_run USING btree (tenant, target_hash, ts, id);
CREATE INDEX diag_run_tenant_ts_idx ON devdiag.diag_run USING btree (tenant, ts);
COMMENT ON TABLE devdiag.diag_run IS
'One row per DevDiag diagnostic run still inside the retention window (older runs live in diag_run_archive); '
'partitioned by UTC day of ts.';
COMMENT ON COLUMN devdiag.diag_run.ts IS 'When the run happened (timestamptz; day buckets are UTC days).';
COMMENT ON COLUMN devdiag.diag_run.target_hash IS 'Lowercase hex digest of the probed URL; raw URLs are refused.';
COMMENT ON COLUMN devdiag.diag_run.problems IS 'JSON array of problem codes the run reported.';
COMMENT ON COLUMN devdiag.diag_run.evidence IS 'JSON object of safe evidence keys (see settings.keep_evidence_keys).';
COMMENT ON COLUMN devdiag.diag_run.preset IS 'chat, embed, app or full; NULL when unknown.';
COMMENT ON COLUMN devdiag.diag_run.source_id IS
'sync_source.id of the SQLite store this run was synced from; NULL for runs written directly (no foreign key: '
'a per-row check would slow bulk ingest, and only the sync writes it).';
COMMENT ON COLUMN devdiag.diag_run.source_run_id IS 'diag_run.id of the run in its SQLite store; NULL for runs written directly.';
COMMENT ON COLUMN devdiag.diag_run.ingest_id IS 'When the run was written (devdiag.ingest_seq); the rollups hold every run up to the refresh watermark.';

CREATE TABLE devdiag.diag_run_archive (
    id bigint NOT NULL,
    ts timestamptz NOT NULL,
    tenant text NOT NULL,
    target_hash text NOT NULL,
    env_fp text,
    problems jsonb NOT NULL,
    evidence jsonb NOT NULL,
    preset text,
    archived_at timestamptz DEFAULT now() NOT NULL,
    source_id bigint,
    source_run_id bigint,
    ingest_id bigint DEFAULT nextval('devdiag.ingest_seq'::regclass) NOT NULL,
    CONSTRAINT diag_run_archive_env_fp_within_limit CHECK ((octet_length(env_fp) <= devdiag.row_limit('env_fp'::text))),
    CONSTRAINT diag_run_archive_evidence_is_object CHECK ((jsonb_typeof(evidence) = 'object'::text)),
    CONSTRAINT diag_run_archive_evidence_within_limit CHECK ((octet_length((evidence)::text) <= devdiag.row_limit('evidence'::text))),
    CONSTRAINT diag_run_archive_preset_known CHECK ((preset = any(ARRAY['chat'::text, 'embed'::text, 'app'::text, 'full'::text]))),
    CONSTRAINT diag_run_archive_problem_code_within_limit CHECK (
        (
            (pg_column_size(problems) <= devdiag.row_limit('problem_code'::text))
            OR (devdiag.longest_problem_code(problems) <= devdiag.row_limit('problem_code'::text))
        )
    ),
    CONSTRAINT diag_run_archive_problems_is_array_of_strings CHECK (
        ((jsonb_typeof(problems) = 'array'::text) AND (NOT jsonb_path_exists(problems, 'strict $[*]?(@.type() != "string" || @ == "")'::jsonpath)))
    ),
    CONSTRAINT diag_run_archive_source_identity_complete CHECK (((source_id IS NULL) = (source_run_id IS NULL))),
    CONSTRAINT diag_run_archive_target_hash_is_lowercase_hex_digest CHECK (
        length(target_hash) BETWEEN 32 AND 128 AND length(target_hash) % 2 = 0 AND target_hash ~ '^[0-9a-f]+$'
    ),
    CONSTRAINT diag_run_archive_tenant_not_empty CHECK ((btrim(tenant, E' \t\r\n'::text) <> ''::text)),
    CONSTRAINT diag_run_archive_tenant_within_limit CHECK ((octet_length(tenant) <= devdiag.row_limit('tenant'::text))),
    CONSTRAINT diag_run_archive_ts_is_finite CHECK (isfinite(ts)),
    CONSTRAINT diag_run_archive_pkey PRIMARY KEY (tenant, id, ts),
    CONSTRAINT diag_run_archive_source_identity_unique UNIQUE (tenant, source_id, source_run_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE devdiag_part.diag_run_archive_default PARTITION OF devdiag.diag_run_archive DEFAULT;
CREATE INDEX diag_run_archive_ingest_brin ON devdiag.diag_run_archive USING brin (tenant, ingest_id) WITH (autosummarize = 'on');
CREATE INDEX diag_run_archive_tenant_target_ts_idx ON devdiag.diag_run_archive USING btree (tenant, target_hash, ts, id);
CREATE INDEX diag_run_archive_tenant_ts_idx ON devdiag.diag_run_archive USING btree (tenant, ts);
COMMENT ON TABLE devdiag.diag_run_archive IS
'Runs older than settings.retention_days, moved out of diag_run a whole UTC day at a time; the views read both '
'tables.';
COMMENT ON COLUMN devdiag.diag_run_archive.source_id IS 'sync_source.id of the SQLite store this run was synced from; NULL for runs written directly.';
COMMENT ON COLUMN devdiag.diag_run_archive.source_run_id IS 'diag_run.id of the run in its SQLite store; NULL for runs written directly.';
COMMENT ON COLUMN devdiag.diag_run_archive.ingest_id IS 'The ingest id the run had in diag_run (a day keeps its rows when it is archived).';

CREATE TABLE devdiag.fix_outcome (
    id bigint GENERATED BY DEFAULT AS IDENTITY,
    ts timestamptz DEFAULT now() NOT NULL,
    tenant text NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    confidence double precision NOT NULL,
    support bigint DEFAULT 0 NOT NULL,
    env_fp text,
    notes text,
    ingest_id bigint DEFAULT 0 NOT NULL,
    CONSTRAINT fix_outcome_confidence_in_unit_interval CHECK (((confidence >= (0)::double precision) AND (confidence <= (1)::double precision))),
    CONSTRAINT fix_outcome_env_fp_within_limit CHECK ((octet_length(env_fp) <= devdiag.row_limit('env_fp'::text))),
    CONSTRAINT fix_outcome_fix_code_not_empty CHECK ((fix_code <> ''::text)),
    CONSTRAINT fix_outcome_fix_code_within_limit CHECK ((octet_length(fix_code) <= devdiag.row_limit('fix_code'::text))),
    CONSTRAINT fix_outcome_problem_code_not_empty CHECK ((problem_code <> ''::text)),
    CONSTRAINT fix_outcome_problem_code_within_limit CHECK ((octet_length(problem_code) <= devdiag.row_limit('problem_code'::text))),
    CONSTRAINT fix_outcome_support_not_negative CHECK ((support >= 0)),
    CONSTRAINT fix_outcome_tenant_not_empty CHECK ((btrim(tenant, E' \t\r\n'::text) <> ''::text)),
    CONSTRAINT fix_outcome_tenant_within_limit CHECK ((octet_length(tenant) <= devdiag.row_limit('tenant'::text))),
    CONSTRAINT fix_outcome_ts_is_finite CHECK (isfinite(ts)),
    CONSTRAINT fix_outcome_pair_unique UNIQUE NULLS NOT DISTINCT (tenant, problem_code, fix_code, env_fp),
    CONSTRAINT fix_outcome_pkey PRIMARY KEY (tenant, id)
);
CREATE INDEX fix_outcome_ingest_brin ON devdiag.fix_outcome USING brin (tenant, ingest_id) WITH (autosummarize = 'on');
CREATE INDEX fix_outcome_ts_idx ON devdiag.fix_outcome USING btree (ts);
COMMENT ON TABLE devdiag.fix_outcome IS 'Learned fix outcomes: how often (support) and how confidently a fix cleared a problem, per tenant and environment.';
COMMENT ON COLUMN devdiag.fix_outcome.ts IS 'When the pair was last credited (its support last grew).';
COMMENT ON COLUMN devdiag.fix_outcome.confidence IS 'Latest confidence in [0, 1].';
COMMENT ON COLUMN devdiag.fix_outcome.support IS 'Number of runs the fix was credited with clearing the problem.';
COMMENT ON COLUMN devdiag.fix_outcome.ingest_id IS 'When the row was last written (devdiag.ingest_seq, set on every insert and update).';

CREATE TABLE devdiag.tenant_grant (
    grantee regrole NOT NULL,
    tenant text NOT NULL,
    granted_at timestamptz DEFAULT now() NOT NULL,
    granted_by text DEFAULT session_user NOT NULL,
    grantee_name name NOT NULL,
    CONSTRAINT tenant_grant_tenant_not_empty CHECK ((tenant <> ''::text)),
    CONSTRAINT tenant_grant_pkey PRIMARY KEY (grantee, tenant)
);
COMMENT ON TABLE devdiag.tenant_grant IS
'Which role may read which tenant (devdiag.grant_tenant / revoke_tenant); members of a role inherit its '
'tenants. Readers have no privilege on this table.';
COMMENT ON COLUMN devdiag.tenant_grant.grantee IS
'A login or a tenant group role (stored by OID: a dropped role''s rows never pass to a new role of the same '
'name).';
COMMENT ON COLUMN devdiag.tenant_grant.granted_by IS 'The login that granted the tenant.';
COMMENT ON COLUMN devdiag.tenant_grant.grantee_name IS 'The role''s name when granted: the grant counts only while the role with this OID still has this name.';

CREATE TABLE devdiag.sync_source (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    sqlite_path text,
    fingerprint_run_id bigint,
    fingerprint text,
    run_watermark bigint DEFAULT 0 NOT NULL,
    run_high_water bigint DEFAULT 0 NOT NULL,
    runs_synced bigint DEFAULT 0 NOT NULL,
    rows_rejected bigint DEFAULT 0 NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    last_sync_at timestamptz,
    CONSTRAINT sync_source_high_water_covers_watermark CHECK ((run_high_water >= run_watermark)),
    CONSTRAINT sync_source_name_not_empty CHECK ((name <> ''::text)),
    CONSTRAINT sync_source_watermark_not_negative CHECK ((run_watermark >= 0)),
    CONSTRAINT sync_source_name_unique UNIQUE (name),
    CONSTRAINT sync_source_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE devdiag.sync_source IS 'One row per DevDiag SQLite store synced into the warehouse, with its watermark; holds no tenant data.';
COMMENT ON COLUMN devdiag.sync_source.name IS 'Source name: --source / SYNC_SOURCE / devdiag.yaml learn.sync.source, or derived from host and file path.';
COMMENT ON COLUMN devdiag.sync_source.sqlite_path IS 'host:absolute path of the file the last sync read (informational).';
COMMENT ON COLUMN devdiag.sync_source.fingerprint IS
'SHA-256 of the lowest run of the store (id, ts, tenant, target) when first synced: a different file under the '
'same name is refused.';
COMMENT ON COLUMN devdiag.sync_source.run_watermark IS 'Highest SQLite diag_run.id already processed (landed or rejected); the next sync starts after it.';
COMMENT ON COLUMN devdiag.sync_source.run_high_water IS
'Highest SQLite diag_run.id ever processed; never lowered, so a re-sync from an older watermark knows which '
'runs may already be archived.';
COMMENT ON COLUMN devdiag.sync_source.rows_rejected IS 'Rows of this source ever sent to sync_reject.';

CREATE TABLE devdiag.sync_run_lock (
    source_id bigint NOT NULL,
    CONSTRAINT sync_run_lock_pkey PRIMARY KEY (source_id),
    CONSTRAINT sync_run_lock_source_fkey FOREIGN KEY (source_id) REFERENCES devdiag.sync_source (id)
);
COMMENT ON TABLE devdiag.sync_run_lock IS 'One row per sync source; a running sync holds its row FOR UPDATE, so a second sync of the source steps aside.';

CREATE TABLE devdiag.sync_reject (
    tenant text NOT NULL,
    source_id bigint NOT NULL,
    table_name text NOT NULL,
    sqlite_id bigint NOT NULL,
    raw_row text NOT NULL,
    reason text NOT NULL,
    rejected_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT sync_reject_reason_not_empty CHECK ((reason <> ''::text)),
    CONSTRAINT sync_reject_table_known CHECK ((table_name = any(ARRAY['diag_run'::text, 'fix_outcome'::text]))),
    CONSTRAINT sync_reject_pkey PRIMARY KEY (tenant, source_id, table_name, sqlite_id),
    CONSTRAINT sync_reject_source_fkey FOREIGN KEY (source_id) REFERENCES devdiag.sync_source (id)
);
CREATE INDEX sync_reject_rejected_at_idx ON devdiag.sync_reject USING btree (rejected_at);
COMMENT ON TABLE devdiag.sync_reject IS 'Rows of a SQLite store the sync refused, one per (source, table, SQLite id); the rest of the sync landed.';
COMMENT ON COLUMN devdiag.sync_reject.tenant IS 'Tenant named by the rejected row, or the empty string when the row had no usable tenant.';
COMMENT ON COLUMN devdiag.sync_reject.sqlite_id IS
'id of the row in the SQLite table named by table_name: sqlite3 FILE "SELECT * FROM <table_name> WHERE id = '
'<sqlite_id>".';
COMMENT ON COLUMN devdiag.sync_reject.raw_row IS
'The SQLite row as read, as a JSON object of column to value, after the privacy rules: a target that is not a '
'hex digest is replaced by its SHA-256, evidence keeps only settings.keep_evidence_keys, evidence that is not '
'valid JSON is withheld (length and SHA-256 kept), \u0000 and raw NUL characters are escaped.';
COMMENT ON COLUMN devdiag.sync_reject.reason IS 'Why the row was refused (the first problem found).';

CREATE TABLE devdiag.fix_outcome_source (
    id bigint GENERATED ALWAYS AS IDENTITY,
    tenant text NOT NULL,
    source_id bigint NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    env_fp text,
    support bigint NOT NULL,
    confidence double precision NOT NULL,
    notes text,
    sqlite_id bigint NOT NULL,
    first_credited_at timestamptz NOT NULL,
    last_credited_at timestamptz NOT NULL,
    synced_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT fix_outcome_source_confidence_in_unit_interval CHECK (((confidence >= (0)::double precision) AND (confidence <= (1)::double precision))),
    CONSTRAINT fix_outcome_source_fix_code_not_empty CHECK ((fix_code <> ''::text)),
    CONSTRAINT fix_outcome_source_problem_code_not_empty CHECK ((problem_code <> ''::text)),
    CONSTRAINT fix_outcome_source_support_not_negative CHECK ((support >= 0)),
    CONSTRAINT fix_outcome_source_tenant_not_empty CHECK ((tenant <> ''::text)),
    CONSTRAINT fix_outcome_source_pair_unique UNIQUE NULLS NOT DISTINCT (tenant, source_id, problem_code, fix_code, env_fp),
    CONSTRAINT fix_outcome_source_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT fix_outcome_source_source_fkey FOREIGN KEY (source_id) REFERENCES devdiag.sync_source (id)
);
COMMENT ON TABLE devdiag.fix_outcome_source IS 'What each SQLite store last reported per fix outcome pair; fix_outcome receives only the changes.';
COMMENT ON COLUMN devdiag.fix_outcome_source.support IS 'The source''s running support total at its last sync.';
COMMENT ON COLUMN devdiag.fix_outcome_source.confidence IS 'The source''s confidence at its last sync.';
COMMENT ON COLUMN devdiag.fix_outcome_source.sqlite_id IS 'fix_outcome.id in the SQLite store (the highest, if NULL env_fp duplicates were merged).';
COMMENT ON COLUMN devdiag.fix_outcome_source.first_credited_at IS 'The SQLite ts of the pair: its first credit.';
COMMENT ON COLUMN devdiag.fix_outcome_source.last_credited_at IS
'When the support last grew: the first credit when first seen, else the time of the sync that saw it grow.';

CREATE TABLE devdiag.job_log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    job text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz DEFAULT clock_timestamp() NOT NULL,
    rows_archived bigint DEFAULT 0 NOT NULL,
    rows_purged bigint DEFAULT 0 NOT NULL,
    detail text,
    CONSTRAINT job_log_pkey PRIMARY KEY (id)
);
CREATE INDEX job_log_job_finished_idx ON devdiag.job_log USING btree (job, finished_at DESC);
COMMENT ON TABLE devdiag.job_log IS 'One row per completed maintenance job run (retention); holds counts only, no tenant data.';

CREATE TABLE devdiag.lock_slot (
    lock_class bigint NOT NULL,
    lock_key bigint NOT NULL,
    CONSTRAINT lock_slot_pkey PRIMARY KEY (lock_class, lock_key)
);
COMMENT ON TABLE devdiag.lock_slot IS 'One row per maintenance lock key; devdiag.take_lock holds a row FOR UPDATE until the end of its transaction.';

INSERT INTO devdiag.settings (key, value, description) VALUES
('retention_days', '180', 'Runs older than this many days move from diag_run to diag_run_archive.'),
('keep_evidence_keys', '["csp", "xfo", "framework", "server", "routes"]', 'Evidence keys kept on ingest; all others are dropped.'),
('min_support', '2', 'Learning: minimum support before a fix is trusted.'),
('alpha', '0.6', 'Learning: confidence smoothing factor alpha.'),
('beta', '0.7', 'Learning: confidence decay factor beta.'),
('archive_purge_days', 'null', 'Archived runs (and fix outcomes last credited) older than this many days are deleted; null = never.'),
('partition_days_ahead', '7', 'The retention job keeps this many UTC days ahead of today partitioned in diag_run.'),
('max_future_minutes', '5', 'Runs dated more than this many minutes after the warehouse''s clock are refused (clock skew allowed).');

-- fix_outcome rows are upserted: each insert and update takes a new ingest id.
CREATE FUNCTION devdiag.stamp_ingest_id() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.ingest_id := nextval('devdiag.ingest_seq');
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION devdiag.stamp_ingest_id() IS
'Row trigger of fix_outcome: gives every inserted or updated row a new ingest id.';
CREATE TRIGGER fix_outcome_stamp BEFORE INSERT OR UPDATE ON devdiag.fix_outcome
FOR EACH ROW EXECUTE FUNCTION devdiag.stamp_ingest_id();

-- Rollups ----------------------------------------------------------------------
-- Folded by devdiag.refresh_rollups() from the runs and fix outcomes above the
-- watermark; each fold lives in sql/rollups and registers itself.
CREATE TABLE devdiag_rollup.rollup_episode_day (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    start_day date NOT NULL,
    end_day date NOT NULL,
    episodes bigint NOT NULL,
    recurrences bigint NOT NULL,
    CONSTRAINT rollup_episode_day_order CHECK ((end_day >= start_day)),
    CONSTRAINT rollup_episode_day_pkey PRIMARY KEY (tenant, problem_code, start_day, end_day)
);
CREATE INDEX rollup_episode_day_end_covering_idx ON devdiag_rollup.rollup_episode_day USING btree (nullif(end_day, 'infinity'::date), start_day) INCLUDE (
    tenant, problem_code, end_day, episodes, recurrences
);
CREATE INDEX rollup_episode_day_open_idx ON devdiag_rollup.rollup_episode_day USING btree (tenant, problem_code, start_day) INCLUDE (
    episodes, recurrences
) WHERE (end_day = 'infinity'::date);
COMMENT ON TABLE devdiag_rollup.rollup_episode_day IS
'Rollup behind v_episode_days: remediation episodes per tenant, problem, first-seen day and first-zero day '
'(end_day ''infinity'' while open); folded with rollup_ttr_episode.';

CREATE TABLE devdiag_rollup.rollup_episode_stat (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    open_episodes bigint NOT NULL,
    resolved_episodes bigint NOT NULL,
    ttr_days_sum bigint NOT NULL,
    CONSTRAINT rollup_episode_stat_pkey PRIMARY KEY (tenant, problem_code)
) WITH (fillfactor = '50');
COMMENT ON TABLE devdiag_rollup.rollup_episode_stat IS
'Rollup: open episodes, resolved episodes and the sum of their ttr_days per tenant and problem; maintained '
'with rollup_ttr_episode.';

CREATE TABLE devdiag_rollup.rollup_fix_change (
    tenant text NOT NULL,
    ingest_id bigint DEFAULT nextval('devdiag.ingest_seq'::regclass) NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    CONSTRAINT rollup_fix_change_pkey PRIMARY KEY (tenant, ingest_id)
);
COMMENT ON TABLE devdiag_rollup.rollup_fix_change IS 'Fix groups a changed or deleted fix outcome left, waiting for the refresh to recompute them.';

CREATE TABLE devdiag_rollup.rollup_fix_total (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    successes bigint NOT NULL,
    confidence_sum double precision NOT NULL,
    environments bigint NOT NULL,
    last_success timestamptz NOT NULL,
    CONSTRAINT rollup_fix_total_environments_positive CHECK ((environments > 0)),
    CONSTRAINT rollup_fix_total_pkey PRIMARY KEY (tenant, problem_code, fix_code)
);
COMMENT ON TABLE devdiag_rollup.rollup_fix_total IS
'Rollup behind v_fix_success: per tenant, problem and fix the sum of support, the sum of confidence, the '
'number of fix_outcome rows and the latest ts; each touched group is recomputed from fix_outcome by the '
'refresh.';

CREATE TABLE devdiag_rollup.rollup_problem_day (
    tenant text NOT NULL,
    day date NOT NULL,
    problem_code text NOT NULL,
    runs bigint NOT NULL,
    CONSTRAINT rollup_problem_day_pkey PRIMARY KEY (tenant, day, problem_code)
) WITH (fillfactor = '70');
CREATE INDEX rollup_problem_day_day_idx ON devdiag_rollup.rollup_problem_day USING btree (day);
COMMENT ON TABLE devdiag_rollup.rollup_problem_day IS
'Rollup behind v_problem_counts: runs (live and archived) per UTC day, tenant and problem code; folded by '
'devdiag.refresh_rollups(), never written by hand.';

CREATE TABLE devdiag_rollup.rollup_problem_env (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    env_fp text NOT NULL,
    runs bigint NOT NULL,
    CONSTRAINT rollup_problem_env_pkey PRIMARY KEY (tenant, problem_code, env_fp)
) WITH (fillfactor = '70');
COMMENT ON TABLE devdiag_rollup.rollup_problem_env IS
'Rollup: runs (live and archived) per tenant, problem code and non-NULL environment fingerprint; folded by '
'devdiag.refresh_rollups().';

CREATE TABLE devdiag_rollup.rollup_problem_total (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    unique_environments bigint NOT NULL,
    total_runs bigint NOT NULL,
    CONSTRAINT rollup_problem_total_pkey PRIMARY KEY (tenant, problem_code)
) WITH (fillfactor = '50');
COMMENT ON TABLE devdiag_rollup.rollup_problem_total IS
'Rollup behind v_env_diversity: distinct non-NULL environments and runs per tenant and problem code; folded by '
'devdiag.refresh_rollups().';

CREATE TABLE devdiag_rollup.rollup_refresh_state (
    only_row boolean DEFAULT TRUE NOT NULL,
    folded_through bigint NOT NULL,
    refreshed_at timestamptz NOT NULL,
    rebuild_pending boolean DEFAULT FALSE NOT NULL,
    CONSTRAINT rollup_refresh_state_only_row_check CHECK (only_row),
    CONSTRAINT rollup_refresh_state_pkey PRIMARY KEY (only_row)
);
COMMENT ON TABLE devdiag_rollup.rollup_refresh_state IS
'The watermark of the all-tenant refresh: every run and fix outcome with ingest_id at or below folded_through '
'is in the rollups.';

CREATE TABLE devdiag_rollup.rollup_registry (
    name text NOT NULL,
    position integer NOT NULL,
    source text NOT NULL,
    fold text NOT NULL,
    keeps text NOT NULL,
    CONSTRAINT rollup_registry_source_check CHECK ((source = any(ARRAY['runs'::text, 'run_targets'::text, 'fix_outcome'::text]))),
    CONSTRAINT rollup_registry_pkey PRIMARY KEY (name),
    CONSTRAINT rollup_registry_position_key UNIQUE (position)
);
COMMENT ON TABLE devdiag_rollup.rollup_registry IS
'One row per rollup fold, written by its sql/rollups file; devdiag.refresh_rollups() calls the folds in '
'position order.';

CREATE TABLE devdiag_rollup.rollup_resolved_day (
    tenant text NOT NULL,
    day date NOT NULL,
    episodes bigint NOT NULL,
    ttr_days_sum bigint NOT NULL,
    CONSTRAINT rollup_resolved_day_pkey PRIMARY KEY (tenant, day)
);
CREATE INDEX rollup_resolved_day_day_idx ON devdiag_rollup.rollup_resolved_day USING btree (day);
COMMENT ON TABLE devdiag_rollup.rollup_resolved_day IS
'Rollup behind v_tenant_daily.episodes_resolved: remediation episodes resolved per tenant and UTC day '
'(first_zero_day) and the sum of their ttr_days; folded with rollup_episode_day.';

CREATE TABLE devdiag_rollup.rollup_run_change (
    tenant text NOT NULL,
    ingest_id bigint DEFAULT nextval('devdiag.ingest_seq'::regclass) NOT NULL,
    ts timestamptz NOT NULL,
    target_hash text NOT NULL,
    env_fp text,
    problems jsonb NOT NULL,
    CONSTRAINT rollup_run_change_pkey PRIMARY KEY (tenant, ingest_id)
);
COMMENT ON TABLE devdiag_rollup.rollup_run_change IS
'Old versions of folded runs that were updated or deleted, waiting for the refresh to take them out of the '
'rollups.';

CREATE TABLE devdiag_rollup.rollup_tenant_day (
    tenant text NOT NULL,
    day date NOT NULL,
    runs bigint NOT NULL,
    problem_runs bigint NOT NULL,
    CONSTRAINT rollup_tenant_day_pkey PRIMARY KEY (tenant, day)
);
CREATE INDEX rollup_tenant_day_day_idx ON devdiag_rollup.rollup_tenant_day USING btree (day);
COMMENT ON TABLE devdiag_rollup.rollup_tenant_day IS
'Rollup behind v_tenant_daily: runs (live and archived) and runs that reported a problem, per tenant and UTC '
'day; folded with rollup_tenant_hour.';

CREATE TABLE devdiag_rollup.rollup_tenant_hour (
    tenant text NOT NULL,
    hour timestamptz NOT NULL,
    runs bigint NOT NULL,
    problem_runs bigint NOT NULL,
    CONSTRAINT rollup_tenant_hour_pkey PRIMARY KEY (tenant, hour)
) WITH (fillfactor = '70');
CREATE INDEX rollup_tenant_hour_day_idx ON devdiag_rollup.rollup_tenant_hour USING btree ((((hour AT TIME ZONE 'UTC'::text))::date));
COMMENT ON TABLE devdiag_rollup.rollup_tenant_hour IS
'Rollup: runs (live and archived) and runs that reported a problem, per tenant and UTC hour (hour = start of '
'the hour); folded by devdiag.refresh_rollups().';

CREATE TABLE devdiag_rollup.rollup_tenant_total (
    tenant text NOT NULL,
    runs bigint NOT NULL,
    problem_runs bigint NOT NULL,
    CONSTRAINT rollup_tenant_total_pkey PRIMARY KEY (tenant)
) WITH (fillfactor = '50');
COMMENT ON TABLE devdiag_rollup.rollup_tenant_total IS
'Rollup: all runs (live and archived) and runs that reported a problem, per tenant; folded by '
'devdiag.refresh_rollups().';

CREATE TABLE devdiag_rollup.rollup_tenant_watermark (
    tenant text NOT NULL,
    folded_through bigint NOT NULL,
    refreshed_at timestamptz NOT NULL,
    CONSTRAINT rollup_tenant_watermark_pkey PRIMARY KEY (tenant)
);
COMMENT ON TABLE devdiag_rollup.rollup_tenant_watermark IS
'Watermarks of tenants refreshed on their own past the all-tenant watermark; rows at or below it are removed.';

CREATE TABLE devdiag_rollup.rollup_ttr_episode (
    tenant text NOT NULL,
    target_hash text NOT NULL,
    problem_code text NOT NULL,
    preset text,
    started_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    resolved_at timestamptz,
    start_run_id bigint NOT NULL,
    end_run_id bigint,
    ttr_days integer,
    episode_no integer,
    CONSTRAINT rollup_ttr_episode_episode_no_set CHECK (((episode_no IS NOT NULL) AND (episode_no >= 1))),
    CONSTRAINT rollup_ttr_episode_resolution_complete CHECK ((((resolved_at IS NULL) = (end_run_id IS NULL)) AND ((resolved_at IS NULL) = (ttr_days IS NULL)))),
    CONSTRAINT rollup_ttr_episode_pkey PRIMARY KEY (tenant, target_hash, problem_code, started_at, start_run_id)
) WITH (fillfactor = '80');
CREATE INDEX rollup_ttr_episode_open_idx ON devdiag_rollup.rollup_ttr_episode USING btree (tenant, problem_code) WHERE (resolved_at IS NULL);
CREATE INDEX rollup_ttr_episode_problem_started_idx ON devdiag_rollup.rollup_ttr_episode USING btree (tenant, problem_code, started_at);
CREATE INDEX rollup_ttr_episode_resolved_idx ON devdiag_rollup.rollup_ttr_episode USING btree (resolved_at) WHERE (resolved_at IS NOT NULL);
CREATE INDEX rollup_ttr_episode_started_idx ON devdiag_rollup.rollup_ttr_episode USING btree (started_at);
CREATE INDEX rollup_ttr_episode_target_end_idx ON devdiag_rollup.rollup_ttr_episode USING btree (
    tenant, target_hash, coalesce(resolved_at, 'infinity'::timestamptz)
);
CREATE INDEX rollup_ttr_episode_ttr_idx ON devdiag_rollup.rollup_ttr_episode USING btree (tenant, problem_code, ttr_days) WHERE (resolved_at IS NOT NULL);
COMMENT ON TABLE devdiag_rollup.rollup_ttr_episode IS
'Materialised remediation episodes (the rows of the episode replay devdiag_ref.ttr_episodes()), ttr_days = UTC '
'days from start to resolution; folded by devdiag.refresh_rollups().';
COMMENT ON COLUMN devdiag_rollup.rollup_ttr_episode.episode_no IS
'1 for the first episode of this problem on this target, 2 for the next, ... (by started_at, start_run_id).';

CREATE TABLE devdiag_rollup.rollup_ttr_histogram (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    ttr_days integer NOT NULL,
    episodes bigint NOT NULL,
    CONSTRAINT rollup_ttr_histogram_pkey PRIMARY KEY (tenant, problem_code, ttr_days)
) WITH (fillfactor = '50');
COMMENT ON TABLE devdiag_rollup.rollup_ttr_histogram IS
'Rollup behind v_ttr_histogram: resolved episodes per tenant, problem and ttr_days; maintained with '
'rollup_ttr_episode.';

INSERT INTO devdiag_rollup.rollup_refresh_state (folded_through, refreshed_at) VALUES (0, now());
