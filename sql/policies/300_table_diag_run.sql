-- Why: readers and analysts read runs (rows filtered by the tenant policies);
-- ingestion inserts them, and reads them back for INSERT ... ON CONFLICT. A
-- run's source identity (source_id, source_run_id) is written by the sync
-- alone: a direct writer that could set it would make the sync skip the run
-- it names as already landed.
GRANT SELECT ON devdiag.diag_run TO devdiag_reader, devdiag_analyst;
GRANT SELECT, INSERT (id, ts, tenant, target_hash, env_fp, problems, evidence, preset) ON devdiag.diag_run
TO devdiag_writer;
GRANT INSERT (source_id, source_run_id) ON devdiag.diag_run TO devdiag_syncer;
