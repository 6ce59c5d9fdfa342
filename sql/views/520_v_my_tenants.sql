-- Why: a Tableau or psql user checks which tenants their login reads (after
-- any app.current_tenant narrowing) without access to the mapping table.
-- The mapping names a reader's tenants, even before they have data; an
-- analyst (or the owner) maps none and reads every tenant through its own
-- policy, so the tenants v_tenant_health shows the caller count as well.
CREATE OR REPLACE VIEW devdiag.v_my_tenants
WITH (security_invoker = TRUE)
AS
SELECT t.tenant
FROM unnest(devdiag.allowed_tenants()) AS t (tenant)
UNION
SELECT h.tenant
FROM devdiag.v_tenant_health AS h;

COMMENT ON VIEW devdiag.v_my_tenants IS
'The tenants the current login may read: those mapped to it (with or without data) and every tenant '
'with runs or fixes that its row security shows it (all of them for an analyst), narrowed by '
'app.current_tenant when it is set; empty means no access.';
