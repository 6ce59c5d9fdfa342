-- Why: undo the source identity index without blocking writers.
-- transactional: false
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.diag_run_source_identity_key;
