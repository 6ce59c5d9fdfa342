-- Why: the raw-data reference computations (the v_ref_* views and the episode
-- replay ttr_episodes()) exist to check the rollups, in tests and make bench;
-- a reader, analyst or Tableau user running one replays every run of its
-- tenants. They move to this schema, which only the owner may use; the
-- function's old copy in devdiag goes (its views were dropped by migrate
-- before this step and come back in devdiag_ref).
-- depends: 0060_partition_runs_by_day
-- squawk-ignore-file ban-drop-function -- its only callers, the reference views, now call devdiag_ref.ttr_episodes()
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE SCHEMA devdiag_ref;
COMMENT ON SCHEMA devdiag_ref IS
'Raw-data reference forms of the contract views (v_ref_*) and the episode replay; owner only, for tests and make bench.';

DROP FUNCTION IF EXISTS devdiag.ttr_episodes();
