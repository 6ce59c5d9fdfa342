-- Why: put back the B-tree of archived runs by target and time (as in 0004)
-- without blocking writers.
-- transactional: false
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS diag_run_archive_tenant_target_ts_idx
ON devdiag.diag_run_archive (tenant, target_hash, ts, id);
