-- Why: the views read archived runs as well; ingestion only looks there for
-- runs sent before (archiving itself is a job run by the owner).
GRANT SELECT ON devdiag.diag_run_archive TO devdiag_reader, devdiag_analyst, devdiag_writer;
