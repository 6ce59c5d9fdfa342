-- Why: undo the sync run lock table.
-- squawk-ignore-file ban-drop-table
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP TABLE devdiag.sync_run_lock;
