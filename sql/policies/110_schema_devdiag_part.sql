-- Why: the day partitions are read through diag_run and diag_run_archive,
-- whose row policies then apply; nobody but the owner may reach them directly.
REVOKE ALL ON SCHEMA devdiag_part FROM public, devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL TABLES IN SCHEMA devdiag_part
FROM public, devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
