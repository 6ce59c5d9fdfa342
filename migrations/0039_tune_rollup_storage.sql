-- Why: rollup rows are updated in place on every ingest batch (counts move,
-- open episodes see new runs). Leaving room on each page lets PostgreSQL keep
-- an updated row on its page without touching the indexes (HOT), which halved
-- the cost of those updates when measured. Affects pages written from now on.
-- depends: 0038_create_rollup_episode_stat
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER TABLE devdiag.rollup_problem_day SET (fillfactor = 70);
ALTER TABLE devdiag.rollup_problem_env SET (fillfactor = 70);
ALTER TABLE devdiag.rollup_problem_total SET (fillfactor = 50);
ALTER TABLE devdiag.rollup_tenant_hour SET (fillfactor = 70);
ALTER TABLE devdiag.rollup_tenant_total SET (fillfactor = 50);
ALTER TABLE devdiag.rollup_ttr_episode SET (fillfactor = 80);
ALTER TABLE devdiag.rollup_ttr_histogram SET (fillfactor = 50);
ALTER TABLE devdiag.rollup_episode_stat SET (fillfactor = 50);
