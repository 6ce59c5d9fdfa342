-- Why: readers and analysts read runs (rows filtered by the tenant policies);
-- ingestion inserts them, and reads them back for INSERT ... ON CONFLICT.
GRANT SELECT ON devdiag.diag_run TO devdiag_reader, devdiag_analyst;
GRANT SELECT, INSERT ON devdiag.diag_run TO devdiag_writer;
