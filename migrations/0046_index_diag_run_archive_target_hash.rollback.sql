-- Why: undo the hash index of archived runs by target without blocking writers.
-- transactional: false
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.diag_run_archive_target_hash_idx;
