-- Why: undo the maintenance lock table.
-- squawk-ignore-file ban-drop-table
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP TABLE devdiag.lock_slot;
