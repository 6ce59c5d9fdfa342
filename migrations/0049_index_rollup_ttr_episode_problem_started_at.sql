-- Why: sql/queries/330 reports the oldest start among a problem's episodes
-- open at the window's end; v_episode_days gives the day, and this index finds
-- the first such episode of that tenant and problem from that day on in a few
-- rows instead of reading the day's episodes of every tenant.
-- Built CONCURRENTLY so writers' rollup upkeep is never blocked; if the build
-- fails, yoyo runs the rollback, which drops the invalid index it leaves.
-- transactional: false
-- depends: 0048_create_rollup_episode_day
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS rollup_ttr_episode_problem_started_idx
ON devdiag.rollup_ttr_episode (tenant, problem_code, started_at);
