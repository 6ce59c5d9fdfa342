-- Why: a grant must not outlive its role. By OID alone, a row left by DROP
-- ROLE (which no trigger can see) would pass to whichever role gets that OID,
-- as after a restore into another cluster, where the dump names a dropped
-- role by its bare OID. Each row also records the role's name; a grant
-- counts only while a role with that OID and that name exists
-- (devdiag.allowed_tenants), and rows of dropped roles are removed here and
-- by grant_tenant, revoke_tenant and restore.
-- depends: 0083_create_sync_role
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER TABLE devdiag.tenant_grant ADD COLUMN grantee_name name;

DELETE FROM devdiag.tenant_grant AS g
WHERE NOT EXISTS (
    SELECT FROM pg_catalog.pg_roles AS r
    WHERE r.oid = g.grantee
);

UPDATE devdiag.tenant_grant AS g SET grantee_name = r.rolname
FROM pg_catalog.pg_roles AS r
WHERE r.oid = g.grantee;

-- squawk-ignore adding-not-nullable-field -- the table holds one row per grant (small), filled just above
ALTER TABLE devdiag.tenant_grant ALTER COLUMN grantee_name SET NOT NULL;

COMMENT ON COLUMN devdiag.tenant_grant.grantee_name IS
'The role''s name when granted: the grant counts only while the role with this OID still has this name.';
