-- Why: the sync (writer) compares each store's fix outcomes with what it
-- reported last time and upserts the new state; tenant row security applies
-- through 200_tenant_row_security.sql (the table has a tenant column).
GRANT SELECT, INSERT, UPDATE ON devdiag.fix_outcome_source TO devdiag_writer;
