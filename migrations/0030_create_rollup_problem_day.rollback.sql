-- Why: undo rollup_problem_day (the views reading it are dropped by migrate first).
-- squawk-ignore-file ban-drop-table
SET lock_timeout = '5s';
SET statement_timeout = '60s';
-- The rollup triggers (sql/functions/590_rollup_triggers.sql) write to this
-- table: drop them first; the next make migrate re-creates them and rebuilds
-- every rollup from the raw runs.
DROP TRIGGER IF EXISTS rollup_after_insert ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_update ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_delete ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_truncate ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_insert ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_update ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_delete ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_truncate ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_insert ON devdiag.fix_outcome;
DROP TRIGGER IF EXISTS rollup_after_update ON devdiag.fix_outcome;
DROP TRIGGER IF EXISTS rollup_after_delete ON devdiag.fix_outcome;
DROP TRIGGER IF EXISTS rollup_after_truncate ON devdiag.fix_outcome;
DROP TABLE devdiag.rollup_problem_day;
