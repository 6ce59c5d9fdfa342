-- Why: undo 0002: the (tenant, ts) index again on both run tables and every
-- partition. It is built while the tables are locked against writes (a
-- partitioned index cannot be built concurrently); plan a quiet moment.
-- squawk-ignore-file require-concurrent-index-creation
SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE INDEX diag_run_tenant_ts_idx ON devdiag.diag_run USING btree (tenant, ts);
CREATE INDEX diag_run_archive_tenant_ts_idx ON devdiag.diag_run_archive USING btree (tenant, ts);
