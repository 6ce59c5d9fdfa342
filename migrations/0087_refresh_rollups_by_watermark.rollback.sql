-- Why: undo the ingest ids and the refresh state. The rollup triggers come
-- back with the sql/ files of step 0086, which then rebuild the rollups.
-- squawk-ignore-file ban-drop-table, ban-drop-column, ban-drop-function
SET lock_timeout = '5s';
SET statement_timeout = '0';

DROP TRIGGER IF EXISTS rollup_run_before_update ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_run_after_change ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_run_before_update ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_run_after_change ON devdiag.diag_run_archive;
DROP FUNCTION IF EXISTS devdiag.rollup_run_changed();
DROP TABLE devdiag.rollup_run_change;
DROP TRIGGER IF EXISTS rollup_fix_after_change ON devdiag.fix_outcome;
DROP FUNCTION IF EXISTS devdiag.rollup_fix_changed();
DROP TABLE devdiag.rollup_fix_change;
DROP TABLE devdiag.rollup_tenant_watermark;
DROP TABLE devdiag.rollup_refresh_state;
DROP TABLE devdiag.rollup_registry;
DROP TRIGGER IF EXISTS fix_outcome_stamp ON devdiag.fix_outcome;
DROP FUNCTION devdiag.stamp_ingest_id();
ALTER TABLE devdiag.fix_outcome DROP COLUMN ingest_id;
ALTER TABLE devdiag.diag_run_archive DROP COLUMN ingest_id;
ALTER TABLE devdiag.diag_run DROP COLUMN ingest_id;
DROP SEQUENCE devdiag.ingest_seq;
