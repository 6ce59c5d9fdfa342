-- Why: a sync locks its source's row while it runs; only the sync may, so no
-- other login can keep a store from syncing (an advisory key would let any).
GRANT SELECT, INSERT, UPDATE ON devdiag.sync_run_lock TO devdiag_syncer;
