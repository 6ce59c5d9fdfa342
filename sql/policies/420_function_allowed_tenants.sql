-- Why: the reader policy calls it as the reader, and v_my_tenants shows its
-- answer; it reveals only the caller's own tenants.
GRANT EXECUTE ON FUNCTION devdiag.allowed_tenants() TO devdiag_reader, devdiag_analyst;
