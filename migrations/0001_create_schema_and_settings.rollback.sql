-- Why: removing the first step removes the warehouse schema and everything in it.
-- squawk-ignore-file ban-drop-table, ban-drop-schema, prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP SCHEMA devdiag CASCADE;
