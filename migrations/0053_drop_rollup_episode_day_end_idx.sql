-- Why: rollup_episode_day_end_covering_idx (0052) has the same key and more
-- columns; keeping both would only cost every rollup upkeep a second insert.
-- Dropped CONCURRENTLY so no reader or writer of the episode days waits.
-- transactional: false
-- depends: 0052_index_rollup_episode_day_end_covering
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.rollup_episode_day_end_idx;
