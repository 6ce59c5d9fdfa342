-- Why: a Tableau or psql user checks which tenants their login reads (after
-- any app.current_tenant narrowing) without access to the mapping table.
CREATE OR REPLACE VIEW devdiag.v_my_tenants
WITH (security_invoker = TRUE)
AS
SELECT t.tenant
FROM unnest(devdiag.allowed_tenants()) AS t (tenant);

COMMENT ON VIEW devdiag.v_my_tenants IS
'The tenants the current login may read, narrowed by app.current_tenant when it is set; empty means no access.';
