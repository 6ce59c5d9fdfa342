-- Why: undo the row limits (the checks first, then the functions they call).
-- squawk-ignore-file prefer-robust-stmts, ban-drop-constraint
SET lock_timeout = '5s';
SET statement_timeout = '60s';
ALTER TABLE devdiag.fix_outcome
DROP CONSTRAINT fix_outcome_tenant_within_limit,
DROP CONSTRAINT fix_outcome_problem_code_within_limit,
DROP CONSTRAINT fix_outcome_fix_code_within_limit,
DROP CONSTRAINT fix_outcome_env_fp_within_limit;
ALTER TABLE devdiag.diag_run_archive
DROP CONSTRAINT diag_run_archive_tenant_within_limit,
DROP CONSTRAINT diag_run_archive_problem_code_within_limit,
DROP CONSTRAINT diag_run_archive_env_fp_within_limit,
DROP CONSTRAINT diag_run_archive_evidence_within_limit;
ALTER TABLE devdiag.diag_run
DROP CONSTRAINT diag_run_tenant_within_limit,
DROP CONSTRAINT diag_run_problem_code_within_limit,
DROP CONSTRAINT diag_run_env_fp_within_limit,
DROP CONSTRAINT diag_run_evidence_within_limit;
DROP FUNCTION devdiag.longest_problem_code(jsonb);
DROP FUNCTION devdiag.row_limit(text);
