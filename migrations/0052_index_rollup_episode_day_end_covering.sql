-- Why: sql/queries/340 sums the episode-day rows resolved in the window
-- (about 58,000 at 10 million runs, over 3,000 scattered pages). The same
-- key as rollup_episode_day_end_idx, with every column the window queries
-- read of a row included, makes that an index-only scan; 0053 then drops
-- the narrower index it supersedes.
-- Built CONCURRENTLY so writers' rollup upkeep is never blocked; if the build
-- fails, yoyo runs the rollback, which drops the invalid index it leaves.
-- transactional: false
-- depends: 0051_index_rollup_episode_day_open
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS rollup_episode_day_end_covering_idx
ON devdiag.rollup_episode_day ((nullif(end_day, 'infinity'::date)), start_day)
INCLUDE (tenant, problem_code, end_day, episodes, recurrences);
