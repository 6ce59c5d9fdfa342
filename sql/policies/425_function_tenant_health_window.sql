-- Why: sql/queries/340 and make report read tenant health through this
-- function; it runs as the caller, so row-level security still gives a reader
-- only its tenants.
GRANT EXECUTE ON FUNCTION devdiag.tenant_health_window(date, date) TO devdiag_reader, devdiag_analyst;
