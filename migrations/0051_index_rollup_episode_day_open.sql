-- Why: sql/queries/330 and 340 read the episode-day rows still open at the
-- window's end (about 13,000 at 10 million runs). Those rows lie scattered
-- over the whole table (3,400 pages for 13,000 rows), so fetching them cost
-- 25 to 35 ms; this partial index holds everything the queries read of
-- them, in (tenant, problem) order, so they are an index-only scan of about
-- 100 pages. v_episode_days.is_open is its predicate.
-- Built CONCURRENTLY so writers' rollup upkeep is never blocked; if the build
-- fails, yoyo runs the rollback, which drops the invalid index it leaves.
-- transactional: false
-- depends: 0050_create_rollup_tenant_day
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS rollup_episode_day_open_idx
ON devdiag.rollup_episode_day (tenant, problem_code, start_day) INCLUDE (episodes, recurrences)
WHERE end_day = 'infinity'::date;
