-- Why: the sync and direct writers create the days they are about to write.
GRANT EXECUTE ON FUNCTION devdiag.ensure_run_partitions(timestamptz, timestamptz) TO devdiag_writer;
