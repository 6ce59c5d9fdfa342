-- Why: the newest runs (devdiag.v_recent_activity, DevDiag's "recent activity"
-- query: the last 20 runs of the past 24 hours) had no index to read them in
-- time order, so every query read and decoded every run of the last day
-- before keeping 20. A (ts, id) index gives them newest first, one partition
-- at a time: the query stops after 20 rows. It is narrow and grows at its
-- right edge as runs arrive in time order, so it costs ingest a fraction of
-- what a (tenant, ...) index does, and the replay's probes of one target keep
-- using the target index (its leading tenant and target_hash match). The
-- archive gets the same index, so that a day moves there by ATTACH without a
-- build. Both are built while the run tables are locked against writes (a
-- partitioned index cannot be built concurrently); plan a quiet moment.
-- squawk-ignore-file require-concurrent-index-creation
SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE INDEX diag_run_ts_id_idx ON devdiag.diag_run USING btree (ts, id);
CREATE INDEX diag_run_archive_ts_id_idx ON devdiag.diag_run_archive USING btree (ts, id);
