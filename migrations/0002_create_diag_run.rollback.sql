-- Why: undo the run table (views depending on it are dropped by migrate first).
-- squawk-ignore-file ban-drop-table, ban-drop-schema, prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP TABLE devdiag.diag_run;
