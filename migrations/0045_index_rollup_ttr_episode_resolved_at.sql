-- Why: analysts' window queries pick episodes by when they were resolved
-- (sql/queries/320 and 340: resolved in the window) and by what was still
-- open at the window's end (330 and 340: resolved after it, or not at all,
-- which the partial index of open episodes already serves); without an index
-- every episode was read.
-- Built CONCURRENTLY so writers' rollup upkeep is never blocked; if the build
-- fails, yoyo runs the rollback, which drops the invalid index it leaves.
-- transactional: false
-- depends: 0044_index_rollup_ttr_episode_started_at
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS rollup_ttr_episode_resolved_idx
ON devdiag.rollup_ttr_episode (resolved_at) WHERE resolved_at IS NOT NULL;
