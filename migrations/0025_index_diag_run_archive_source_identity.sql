-- Why: the archive holds runs a sync may have sent before; this unique index
-- lets a re-sync skip them by index lookups and keeps them unique there too.
-- Built CONCURRENTLY for the same reasons as 0024 (same key order).
-- transactional: false
-- depends: 0024_index_diag_run_source_identity
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE UNIQUE INDEX CONCURRENTLY diag_run_archive_source_identity_key
ON devdiag.diag_run_archive (source_id, source_run_id, tenant);
