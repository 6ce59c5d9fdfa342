-- Why: undo rollup_tenant_day (the views reading it are dropped by migrate first).
-- squawk-ignore-file ban-drop-table
SET lock_timeout = '5s';
SET statement_timeout = '60s';
-- The triggers that write to it (sql/functions/596) go first; the next make
-- migrate attaches them again and fills the table from the hourly counts.
DROP TRIGGER IF EXISTS tenant_day_after_insert ON devdiag.rollup_tenant_hour;
DROP TRIGGER IF EXISTS tenant_day_after_update ON devdiag.rollup_tenant_hour;
DROP TRIGGER IF EXISTS tenant_day_after_delete ON devdiag.rollup_tenant_hour;
DROP TABLE devdiag.rollup_tenant_day;
