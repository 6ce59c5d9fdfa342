-- Why: turn the concurrently built indexes into named unique constraints
-- (metadata only, a brief lock), so the catalog states the rule and the
-- sync's ON CONFLICT names it.
-- depends: 0025_index_diag_run_archive_source_identity
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER TABLE devdiag.diag_run
ADD CONSTRAINT diag_run_source_identity_unique UNIQUE USING INDEX diag_run_source_identity_key;

ALTER TABLE devdiag.diag_run_archive
ADD CONSTRAINT diag_run_archive_source_identity_unique UNIQUE USING INDEX diag_run_archive_source_identity_key;
