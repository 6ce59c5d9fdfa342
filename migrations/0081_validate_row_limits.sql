-- Why: validate the row limit checks of step 0080 under a lock that lets
-- writers continue, so every stored row is known to satisfy them; a row over
-- a limit stops this step with the constraint's name.
-- depends: 0080_add_row_limits
SET lock_timeout = '5s';
SET statement_timeout = '0';

ALTER TABLE devdiag.diag_run VALIDATE CONSTRAINT diag_run_tenant_within_limit;
ALTER TABLE devdiag.diag_run VALIDATE CONSTRAINT diag_run_problem_code_within_limit;
ALTER TABLE devdiag.diag_run VALIDATE CONSTRAINT diag_run_env_fp_within_limit;
ALTER TABLE devdiag.diag_run VALIDATE CONSTRAINT diag_run_evidence_within_limit;
ALTER TABLE devdiag.diag_run_archive VALIDATE CONSTRAINT diag_run_archive_tenant_within_limit;
ALTER TABLE devdiag.diag_run_archive VALIDATE CONSTRAINT diag_run_archive_problem_code_within_limit;
ALTER TABLE devdiag.diag_run_archive VALIDATE CONSTRAINT diag_run_archive_env_fp_within_limit;
ALTER TABLE devdiag.diag_run_archive VALIDATE CONSTRAINT diag_run_archive_evidence_within_limit;
ALTER TABLE devdiag.fix_outcome VALIDATE CONSTRAINT fix_outcome_tenant_within_limit;
ALTER TABLE devdiag.fix_outcome VALIDATE CONSTRAINT fix_outcome_problem_code_within_limit;
ALTER TABLE devdiag.fix_outcome VALIDATE CONSTRAINT fix_outcome_fix_code_within_limit;
ALTER TABLE devdiag.fix_outcome VALIDATE CONSTRAINT fix_outcome_env_fp_within_limit;
