-- Why: the sync files rows it refused and updates a reject when the same
-- SQLite row is refused again; rows carry tenant data, so the tenant row
-- security of 200_tenant_row_security.sql applies (devdiag_syncer inherits the
-- writer's policies).
GRANT SELECT, INSERT, UPDATE ON devdiag.sync_reject TO devdiag_syncer;
