-- Why: learned fixes are read like runs; ingestion upserts them (support grows in place).
GRANT SELECT ON devdiag.fix_outcome TO devdiag_reader, devdiag_analyst;
GRANT SELECT, INSERT, UPDATE ON devdiag.fix_outcome TO devdiag_writer;
