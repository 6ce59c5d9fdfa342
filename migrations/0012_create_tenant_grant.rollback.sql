-- Why: undo the role-to-tenant mapping (reader policies then match no tenant: fail closed).
-- squawk-ignore-file ban-drop-table, prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP TABLE devdiag.tenant_grant;
