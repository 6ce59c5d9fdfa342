-- Why: dropping a constraint built USING INDEX drops its index too, so the
-- rollback re-creates the plain index (what step 0024/0025 built).
-- squawk-ignore-file prefer-robust-stmts, require-concurrent-index-creation
SET lock_timeout = '5s';
SET statement_timeout = '0';
ALTER TABLE devdiag.diag_run_archive DROP CONSTRAINT diag_run_archive_source_identity_unique;
CREATE UNIQUE INDEX diag_run_archive_source_identity_key
ON devdiag.diag_run_archive (source_id, source_run_id, tenant);
ALTER TABLE devdiag.diag_run DROP CONSTRAINT diag_run_source_identity_unique;
CREATE UNIQUE INDEX diag_run_source_identity_key
ON devdiag.diag_run (source_id, source_run_id, tenant);
