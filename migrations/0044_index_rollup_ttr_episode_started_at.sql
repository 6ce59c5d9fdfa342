-- Why: analysts' window queries pick episodes by when they began
-- (sql/queries/350: first seen in the window); without an index every
-- episode of every tenant was read (about 1.1 million at 10 million runs).
-- Built CONCURRENTLY so writers' rollup upkeep is never blocked; if the build
-- fails, yoyo runs the rollback, which drops the invalid index it leaves.
-- transactional: false
-- depends: 0043_validate_episode_no_check
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS rollup_ttr_episode_started_idx
ON devdiag.rollup_ttr_episode (started_at);
