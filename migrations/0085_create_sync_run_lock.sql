-- Why: two syncs of one store must not run at once. An advisory lock key can
-- be taken by any login that may connect, and would keep every sync of a
-- store out for as long as that login liked; a row of this table can be locked only by a
-- role that may update it, i.e. devdiag_syncer (sql/policies). A sync holds
-- its source's row FOR UPDATE on a connection of its own while it runs.
-- depends: 0084_add_tenant_grant_grantee_name
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.sync_run_lock (
    source_id bigint NOT NULL,
    CONSTRAINT sync_run_lock_pkey PRIMARY KEY (source_id),
    CONSTRAINT sync_run_lock_source_fkey FOREIGN KEY (source_id) REFERENCES devdiag.sync_source (id)
);

COMMENT ON TABLE devdiag.sync_run_lock IS
'One row per sync source; a running sync holds its row FOR UPDATE, so a second sync of the source steps aside.';
