-- Why: the sync registers its store and moves the watermark in the same
-- transaction as the rows it covers; a direct writer could move a watermark
-- past runs not yet synced, so only devdiag_syncer may. The table holds no
-- tenant rows, and monitoring reads it through devdiag.monitor_sync_sources() only.
GRANT SELECT, INSERT, UPDATE ON devdiag.sync_source TO devdiag_syncer;
