-- Why: the sync compares each store's fix outcomes with what it reported last
-- time and upserts the new state; only the sync writes that state, since it
-- decides how much support fix_outcome gains. Tenant row security applies
-- through 200_tenant_row_security.sql (devdiag_syncer inherits the writer's policies).
GRANT SELECT, INSERT, UPDATE ON devdiag.fix_outcome_source TO devdiag_syncer;
