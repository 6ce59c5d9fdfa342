-- Why: undo the covering first-zero-day index of the episode days without blocking writers.
-- transactional: false
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.rollup_episode_day_end_covering_idx;
