-- Why: every reader policy asks which tenants the current role may read. The
-- answer comes from devdiag.tenant_grant (which readers cannot read) through
-- role membership, narrowed by app.current_tenant but never widened by it.
-- SECURITY DEFINER runs as the owner, so current_user would name the owner:
-- the caller is the session's SET ROLE, else the login. Policies use
-- tenant = ANY ((SELECT devdiag.allowed_tenants())::text[]): an init plan, run
-- once per query, not per row (without the cast, ANY would read a subquery).
-- A grant counts only while its role has the OID and the name it was granted
-- under, so a dropped role's grant never passes to another role.
CREATE OR REPLACE FUNCTION devdiag.allowed_tenants()
RETURNS text[]
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(DISTINCT g.tenant ORDER BY g.tenant), '{}')
    FROM devdiag.tenant_grant AS g
    WHERE
        pg_has_role(coalesce(nullif(current_setting('role'), 'none'), session_user)::name, g.grantee, 'USAGE')
        -- the role granted, not a later role that reuses its OID
        AND pg_get_userbyid(g.grantee) = g.grantee_name
        AND g.tenant = coalesce(nullif(current_setting('app.current_tenant', TRUE), ''), g.tenant)
$$;

COMMENT ON FUNCTION devdiag.allowed_tenants() IS
'Tenants the calling role may read: mapped to it or to a role it inherits from, narrowed to app.current_tenant when set.';
