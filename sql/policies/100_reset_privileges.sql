-- Why: privileges in devdiag are exactly what the files after this one grant:
-- PUBLIC gets nothing (not even EXECUTE on functions), and a grant removed from
-- a file is gone after the next migrate. Runs as devdiag_owner, the grantor.
REVOKE ALL ON SCHEMA devdiag FROM public, devdiag_writer, devdiag_syncer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL TABLES IN SCHEMA devdiag FROM public, devdiag_writer, devdiag_syncer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA devdiag FROM public, devdiag_writer, devdiag_syncer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL ROUTINES IN SCHEMA devdiag FROM public, devdiag_writer, devdiag_syncer, devdiag_reader, devdiag_analyst, devdiag_monitor;

GRANT USAGE ON SCHEMA devdiag TO devdiag_writer, devdiag_reader, devdiag_analyst, devdiag_monitor;

-- The rollups are read through the views only: nobody but the owner may use
-- their schema, and the files after this one grant SELECT on the tables the
-- views read (a view reaches its tables without looking up the schema).
REVOKE ALL ON SCHEMA devdiag_rollup FROM public, devdiag_writer, devdiag_syncer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL TABLES IN SCHEMA devdiag_rollup
FROM public, devdiag_writer, devdiag_syncer, devdiag_reader, devdiag_analyst, devdiag_monitor;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA devdiag_rollup
FROM public, devdiag_writer, devdiag_syncer, devdiag_reader, devdiag_analyst, devdiag_monitor;
