-- Why: undo the covering index of the open episode-day rows without blocking writers.
-- transactional: false
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.rollup_episode_day_open_idx;
