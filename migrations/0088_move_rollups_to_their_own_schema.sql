-- Why: readers, analysts and Tableau list what schema devdiag holds, and the
-- rollup tables are not part of their contract: they are read through the
-- views. The rollups, their registry, refresh state and change queues move to
-- devdiag_rollup, a schema no reader may use. The views stay security_invoker
-- and keep reading them under the reader's own row policies: a view reaches
-- its tables by OID, so a reader needs SELECT on them, not the schema.
-- depends: 0087_refresh_rollups_by_watermark
-- squawk-ignore-file ban-set-schema -- their only clients are the views (bound by OID) and the sql/ files, re-applied by this migrate
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE SCHEMA devdiag_rollup;
COMMENT ON SCHEMA devdiag_rollup IS
'Rollups behind the devdiag views, folded by devdiag.refresh_rollups(); owner only (readers reach them through the views).';

ALTER TABLE devdiag.rollup_problem_day SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_problem_total SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_problem_env SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_tenant_hour SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_tenant_day SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_tenant_total SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_fix_total SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_ttr_episode SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_ttr_histogram SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_episode_stat SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_episode_day SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_resolved_day SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_registry SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_refresh_state SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_tenant_watermark SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_run_change SET SCHEMA devdiag_rollup;
ALTER TABLE devdiag.rollup_fix_change SET SCHEMA devdiag_rollup;
