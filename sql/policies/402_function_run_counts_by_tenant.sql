-- Why: v_tenant_health, which readers and analysts query, calls it as the
-- caller; row-level security limits the counts to the caller's tenants.
GRANT EXECUTE ON FUNCTION devdiag.run_counts_by_tenant(timestamptz, timestamptz) TO devdiag_reader, devdiag_analyst;
