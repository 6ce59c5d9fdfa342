-- Why: every insert into the run tables, and every insert or update of a fix
-- outcome, draws its ingest id from devdiag.ingest_seq as the writer; drawing
-- one is all a writer may do with it (no setval, no reading it back).
GRANT USAGE ON SEQUENCE devdiag.ingest_seq TO devdiag_writer;
