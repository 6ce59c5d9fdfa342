-- Why: runs past retention move here instead of being deleted, so analytics
-- keep their long-term history.
-- depends: 0003_create_fix_outcome
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.diag_run_archive (
    id bigint NOT NULL,
    ts timestamptz NOT NULL,
    tenant text NOT NULL,
    target_hash text NOT NULL,
    env_fp text,
    problems jsonb NOT NULL,
    evidence jsonb NOT NULL,
    preset text,
    archived_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT diag_run_archive_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT diag_run_archive_tenant_not_empty CHECK (btrim(tenant, E' \t\r\n') <> ''),
    CONSTRAINT diag_run_archive_ts_is_finite CHECK (isfinite(ts)),
    CONSTRAINT diag_run_archive_target_hash_is_lowercase_hex_digest
    CHECK (target_hash ~ '^[0-9a-f]{32,128}$'),
    CONSTRAINT diag_run_archive_problems_is_array_of_strings CHECK (
        jsonb_typeof(problems) = 'array'
        AND NOT jsonb_path_exists(problems, 'strict $[*] ? (@.type() != "string" || @ == "")')
    ),
    CONSTRAINT diag_run_archive_evidence_is_object CHECK (jsonb_typeof(evidence) = 'object'),
    CONSTRAINT diag_run_archive_preset_known CHECK (preset IN ('chat', 'embed', 'app', 'full'))
);

COMMENT ON TABLE devdiag.diag_run_archive IS
'Runs older than settings.retention_days, moved out of diag_run; the views read both tables.';

-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX diag_run_archive_tenant_target_ts_idx
ON devdiag.diag_run_archive (tenant, target_hash, ts, id);
-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX diag_run_archive_ts_idx ON devdiag.diag_run_archive (ts);
