-- Why: undo the recorded role names (grants keep their OIDs).
-- squawk-ignore-file ban-drop-column
SET lock_timeout = '5s';
SET statement_timeout = '60s';
ALTER TABLE devdiag.tenant_grant DROP COLUMN grantee_name;
