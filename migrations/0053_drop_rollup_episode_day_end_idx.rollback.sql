-- Why: put back the first-zero-day index of the episode days (as in 0048)
-- without blocking writers.
-- transactional: false
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS rollup_episode_day_end_idx
ON devdiag.rollup_episode_day ((nullif(end_day, 'infinity'::date)), start_day);
