-- Why: undo 0006: the run tables without the (ts, id) index.
-- squawk-ignore-file require-concurrent-index-deletion
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DROP INDEX devdiag.diag_run_ts_id_idx;
DROP INDEX devdiag.diag_run_archive_ts_id_idx;
