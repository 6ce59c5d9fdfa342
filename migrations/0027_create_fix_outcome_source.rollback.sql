-- Why: undo the per-source fix outcome state.
-- squawk-ignore-file ban-drop-table, ban-drop-schema, prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP TABLE devdiag.fix_outcome_source;
