-- Why: taking a tenant away is effective from the role's next query, since
-- policies read the mapping at every query.
CREATE OR REPLACE FUNCTION devdiag.revoke_tenant(p_role name, p_tenant text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role regrole;
    n integer;
BEGIN
    SELECT r.oid::regrole INTO v_role FROM pg_roles AS r WHERE r.rolname = p_role;
    IF v_role IS NULL THEN
        RAISE EXCEPTION 'devdiag.revoke_tenant: role % does not exist', quote_ident(p_role)
            USING ERRCODE = 'undefined_object';
    END IF;
    DELETE FROM devdiag.tenant_grant AS g WHERE pg_get_userbyid(g.grantee) IS DISTINCT FROM g.grantee_name;
    DELETE FROM devdiag.tenant_grant AS g WHERE g.grantee = v_role AND g.tenant = p_tenant;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END;
$$;

COMMENT ON FUNCTION devdiag.revoke_tenant(name, text) IS
'Stop a role reading a tenant (members that inherit it too); true when a grant was removed. Owner only.';
