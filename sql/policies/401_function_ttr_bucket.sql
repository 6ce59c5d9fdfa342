-- Why: the TTR summary (sql/queries/320) that readers and analysts run reads
-- the episodes of one bucket of time to resolve by calling it as the caller.
GRANT EXECUTE ON FUNCTION devdiag.ttr_bucket(interval) TO devdiag_reader, devdiag_analyst;
