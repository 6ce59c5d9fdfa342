-- Why: undo the rollup schema: its tables go back to devdiag (views and sql/
-- come back with the next migrate, which moves them again). The triggers on
-- the run and fix tables call functions that name devdiag_rollup: they go
-- too, so writes keep working in between (the next migrate re-attaches them).
-- squawk-ignore-file ban-drop-schema
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DROP TRIGGER IF EXISTS rollup_after_truncate ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_truncate ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_truncate ON devdiag.fix_outcome;
DROP TRIGGER IF EXISTS rollup_run_before_update ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_run_after_change ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_run_before_update ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_run_after_change ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_fix_after_change ON devdiag.fix_outcome;

ALTER TABLE devdiag_rollup.rollup_problem_day SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_problem_total SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_problem_env SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_tenant_hour SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_tenant_day SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_tenant_total SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_fix_total SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_ttr_episode SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_ttr_histogram SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_episode_stat SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_episode_day SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_resolved_day SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_registry SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_refresh_state SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_tenant_watermark SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_run_change SET SCHEMA devdiag;
ALTER TABLE devdiag_rollup.rollup_fix_change SET SCHEMA devdiag;
DROP SCHEMA devdiag_rollup;
