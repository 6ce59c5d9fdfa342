-- Why: the sync (writer) files rows it refused and updates a reject when the
-- same SQLite row is refused again; rows carry tenant data, so the tenant row
-- security of 200_tenant_row_security.sql applies (the table has a tenant column).
GRANT SELECT, INSERT, UPDATE ON devdiag.sync_reject TO devdiag_writer;
