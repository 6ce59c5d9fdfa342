-- Why: the source identity checks were added NOT VALID so adding them took
-- no long lock; validating here scans the runs under a lock that lets
-- writers continue.
-- depends: 0022_add_source_identity_to_runs
SET lock_timeout = '5s';
SET statement_timeout = '0';

ALTER TABLE devdiag.diag_run VALIDATE CONSTRAINT diag_run_source_identity_complete;
ALTER TABLE devdiag.diag_run_archive VALIDATE CONSTRAINT diag_run_archive_source_identity_complete;
