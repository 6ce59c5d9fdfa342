-- Why: each SQLite store syncs incrementally from where its last successful
-- run stopped; the watermark lives in the warehouse so it commits atomically
-- with the rows it covers (a killed sync never skips or repeats a run).
-- depends: 0004_create_diag_run_archive
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.sync_source (
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    sqlite_path text,
    fingerprint_run_id bigint,
    fingerprint text,
    run_watermark bigint NOT NULL DEFAULT 0,
    run_high_water bigint NOT NULL DEFAULT 0,
    runs_synced bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_sync_at timestamptz,
    CONSTRAINT sync_source_pkey PRIMARY KEY (id),
    CONSTRAINT sync_source_name_unique UNIQUE (name),
    CONSTRAINT sync_source_name_not_empty CHECK (name <> ''),
    CONSTRAINT sync_source_watermark_not_negative CHECK (run_watermark >= 0),
    CONSTRAINT sync_source_high_water_covers_watermark CHECK (run_high_water >= run_watermark)
);

COMMENT ON TABLE devdiag.sync_source IS
'One row per DevDiag SQLite store synced into the warehouse, with its watermark; holds no tenant data.';
COMMENT ON COLUMN devdiag.sync_source.name IS
'Source name: --source / SYNC_SOURCE / devdiag.yaml learn.sync.source, or derived from host and file path.';
COMMENT ON COLUMN devdiag.sync_source.sqlite_path IS 'host:absolute path of the file the last sync read (informational).';
COMMENT ON COLUMN devdiag.sync_source.run_watermark IS
'Highest SQLite diag_run.id already processed (landed or rejected); the next sync starts after it.';
COMMENT ON COLUMN devdiag.sync_source.run_high_water IS
'Highest SQLite diag_run.id ever processed; never lowered, so a re-sync from an older watermark knows which runs may already be archived.';
COMMENT ON COLUMN devdiag.sync_source.fingerprint IS
'SHA-256 of the lowest run of the store (id, ts, tenant, target) when first synced: a different file under the same name is refused.';
COMMENT ON COLUMN devdiag.sync_source.rows_rejected IS
'Rows of this source ever sent to sync_reject.';
