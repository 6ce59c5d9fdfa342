-- Why: the reference computations replay raw runs; only the owner (tests,
-- make bench) may run them, never a reader, analyst or Tableau login.
REVOKE ALL ON SCHEMA devdiag_ref FROM public, devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL TABLES IN SCHEMA devdiag_ref
FROM public, devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL ROUTINES IN SCHEMA devdiag_ref
FROM public, devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;
