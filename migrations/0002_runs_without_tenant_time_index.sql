-- Why: every index on the run tables costs about as much to keep as the COPY
-- of the run itself, and the (tenant, ts) index served nothing the others do
-- not: a day partition holds one UTC day, so a tenant's runs of a day are the
-- tenant prefix of the primary key (tenant, id, ts) or of the target index
-- (tenant, target_hash, ts, id). Worse, while a day fills, the planner saw
-- both indexes as equally cheap and could pick (tenant, ts) for the episode
-- replay's probes of one target, reading every run of the tenant that day for
-- each target. Dropping the partitioned index drops it on every partition; it
-- locks the run tables only while the catalog changes.
-- squawk-ignore-file require-concurrent-index-deletion
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DROP INDEX devdiag.diag_run_tenant_ts_idx;
DROP INDEX devdiag.diag_run_archive_tenant_ts_idx;
