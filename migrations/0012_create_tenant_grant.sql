-- Why: the tenants a login may read come from the database, not from the
-- session: one row per (role, tenant), read only through
-- devdiag.allowed_tenants(); a role holds the tenants mapped to it and to
-- every role whose privileges it inherits. No row, no tenant (fail closed).
-- depends: 0011_hand_devdiag_to_owner_role
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.tenant_grant (
    grantee regrole NOT NULL,
    tenant text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL DEFAULT session_user,
    CONSTRAINT tenant_grant_pkey PRIMARY KEY (grantee, tenant),
    CONSTRAINT tenant_grant_tenant_not_empty CHECK (tenant <> '')
);

COMMENT ON TABLE devdiag.tenant_grant IS
'Which role may read which tenant (devdiag.grant_tenant / revoke_tenant); members of a role inherit its tenants. '
'Readers have no privilege on this table.';
COMMENT ON COLUMN devdiag.tenant_grant.grantee IS
'A login or a tenant group role (stored by OID: a dropped role''s rows never pass to a new role of the same name).';
COMMENT ON COLUMN devdiag.tenant_grant.granted_by IS 'The login that granted the tenant.';
