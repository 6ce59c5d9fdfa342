-- Why: undo the (tenant, problem_code, started_at) index of the episodes without blocking writers.
-- transactional: false
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.rollup_ttr_episode_problem_started_idx;
