-- Why: undo the source identity columns (their unique constraints go first, in later steps).
-- squawk-ignore-file ban-drop-column, prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
ALTER TABLE devdiag.diag_run_archive DROP COLUMN source_run_id, DROP COLUMN source_id;
ALTER TABLE devdiag.diag_run DROP COLUMN source_run_id, DROP COLUMN source_id;
