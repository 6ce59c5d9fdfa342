-- Why: a bad row in a SQLite store must not stop the rows around it; it is
-- kept here with its source, SQLite id, raw content and reason, so an
-- operator can fix it at the source while the rest lands.
-- depends: 0020_create_sync_source
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.sync_reject (
    tenant text NOT NULL,
    source_id bigint NOT NULL,
    table_name text NOT NULL,
    sqlite_id bigint NOT NULL,
    raw_row text NOT NULL,
    reason text NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    -- tenant leads every key of a tenant table (Citus distribution column).
    CONSTRAINT sync_reject_pkey PRIMARY KEY (tenant, source_id, table_name, sqlite_id),
    CONSTRAINT sync_reject_source_fkey FOREIGN KEY (source_id) REFERENCES devdiag.sync_source (id),
    CONSTRAINT sync_reject_table_known CHECK (table_name IN ('diag_run', 'fix_outcome')),
    CONSTRAINT sync_reject_reason_not_empty CHECK (reason <> '')
);

COMMENT ON TABLE devdiag.sync_reject IS
'Rows of a SQLite store the sync refused, one per (source, table, SQLite id); the rest of the sync landed.';
COMMENT ON COLUMN devdiag.sync_reject.tenant IS
'Tenant named by the rejected row, or the empty string when the row had no usable tenant.';
COMMENT ON COLUMN devdiag.sync_reject.sqlite_id IS
'id of the row in the SQLite table named by table_name: sqlite3 FILE "SELECT * FROM <table_name> WHERE id = <sqlite_id>".';
COMMENT ON COLUMN devdiag.sync_reject.raw_row IS
'The SQLite row as read, as a JSON object of column to value, after the privacy rules: a target that is not a '
'hex digest is replaced by its SHA-256, evidence keeps only settings.keep_evidence_keys, evidence that is not '
'valid JSON is withheld (length and SHA-256 kept), \u0000 and raw NUL characters are escaped.';
COMMENT ON COLUMN devdiag.sync_reject.reason IS 'Why the row was refused (the first problem found).';

-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX sync_reject_rejected_at_idx ON devdiag.sync_reject (rejected_at);
