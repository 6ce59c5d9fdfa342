-- Why: a run synced from a SQLite store carries its origin (source, SQLite
-- id), so a run sent twice lands once; the columns are nullable without a
-- default (a catalog-only change, no rewrite), so DevDiag's direct INSERT
-- contract keeps working and leaves them NULL. The archive gets the same
-- columns because it holds the same runs.
-- depends: 0021_create_sync_reject
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER TABLE devdiag.diag_run
ADD COLUMN source_id bigint,
ADD COLUMN source_run_id bigint;

ALTER TABLE devdiag.diag_run
ADD CONSTRAINT diag_run_source_identity_complete
CHECK ((source_id IS NULL) = (source_run_id IS NULL)) NOT VALID;

ALTER TABLE devdiag.diag_run_archive
ADD COLUMN source_id bigint,
ADD COLUMN source_run_id bigint;

ALTER TABLE devdiag.diag_run_archive
ADD CONSTRAINT diag_run_archive_source_identity_complete
CHECK ((source_id IS NULL) = (source_run_id IS NULL)) NOT VALID;

COMMENT ON COLUMN devdiag.diag_run.source_id IS
'sync_source.id of the SQLite store this run was synced from; NULL for runs written directly '
'(no foreign key: a per-row check would slow bulk ingest, and only the sync writes it).';
COMMENT ON COLUMN devdiag.diag_run.source_run_id IS
'diag_run.id of the run in its SQLite store; NULL for runs written directly.';
COMMENT ON COLUMN devdiag.diag_run_archive.source_id IS
'sync_source.id of the SQLite store this run was synced from; NULL for runs written directly.';
COMMENT ON COLUMN devdiag.diag_run_archive.source_run_id IS
'diag_run.id of the run in its SQLite store; NULL for runs written directly.';
