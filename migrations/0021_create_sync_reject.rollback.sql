-- Why: undo the reject table.
-- squawk-ignore-file ban-drop-table, ban-drop-schema, prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP TABLE devdiag.sync_reject;
