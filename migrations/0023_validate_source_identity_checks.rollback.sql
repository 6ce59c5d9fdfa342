-- Why: a validated check cannot be un-validated; re-adding it NOT VALID is
-- the closest reverse, and the columns themselves go in the previous step.
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
ALTER TABLE devdiag.diag_run DROP CONSTRAINT diag_run_source_identity_complete;
ALTER TABLE devdiag.diag_run
ADD CONSTRAINT diag_run_source_identity_complete
CHECK ((source_id IS NULL) = (source_run_id IS NULL)) NOT VALID;
ALTER TABLE devdiag.diag_run_archive DROP CONSTRAINT diag_run_archive_source_identity_complete;
ALTER TABLE devdiag.diag_run_archive
ADD CONSTRAINT diag_run_archive_source_identity_complete
CHECK ((source_id IS NULL) = (source_run_id IS NULL)) NOT VALID;
