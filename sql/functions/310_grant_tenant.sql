-- Why: the one way to let a login (or a tenant group role its logins inherit)
-- read a tenant; role and tenant are values, never spliced into SQL, so any
-- tenant name round-trips.
CREATE OR REPLACE FUNCTION devdiag.grant_tenant(p_role name, p_tenant text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role regrole;
BEGIN
    IF p_tenant IS NULL OR p_tenant = '' THEN
        RAISE EXCEPTION 'devdiag.grant_tenant: tenant must be a non-empty string'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT r.oid::regrole INTO v_role FROM pg_roles AS r WHERE r.rolname = p_role;
    IF v_role IS NULL THEN
        RAISE EXCEPTION 'devdiag.grant_tenant: role % does not exist', quote_ident(p_role)
            USING ERRCODE = 'undefined_object';
    END IF;
    IF p_role IN ('devdiag_owner', 'devdiag_writer', 'devdiag_syncer', 'devdiag_reader', 'devdiag_analyst', 'devdiag_monitor') THEN
        RAISE EXCEPTION 'devdiag.grant_tenant: % is a shared group role; every member would read tenant %',
            p_role, quote_literal(p_tenant)
            USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Grant the tenant to the login, or to a tenant group role that its logins are members of.';
    END IF;
    -- Rows of dropped roles match nobody; keep the table readable.
    DELETE FROM devdiag.tenant_grant AS g WHERE pg_get_userbyid(g.grantee) IS DISTINCT FROM g.grantee_name;
    INSERT INTO devdiag.tenant_grant (grantee, grantee_name, tenant) VALUES (v_role, p_role, p_tenant)
    ON CONFLICT ON CONSTRAINT tenant_grant_pkey DO NOTHING;
    RETURN FOUND;
END;
$$;

COMMENT ON FUNCTION devdiag.grant_tenant(name, text) IS
'Let a role (and every role that inherits from it) read a tenant; true when newly granted. Owner only.';
