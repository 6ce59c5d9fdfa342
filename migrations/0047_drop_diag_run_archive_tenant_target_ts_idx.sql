-- Why: the hash index of 0046 serves the replay's reads of archived runs by
-- target; the B-tree on (tenant, target_hash, ts, id) only slowed down every
-- retention move (about 4.5 µs of the 15 to 20 µs a moved run costs).
-- Dropped CONCURRENTLY so no reader or writer of the archive waits.
-- transactional: false
-- depends: 0046_index_diag_run_archive_target_hash
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.diag_run_archive_tenant_target_ts_idx;
