-- Why: the sync (writer) registers its store and moves the watermark in the
-- same transaction as the rows it covers; the table holds no tenant rows,
-- and monitoring reads it through devdiag.monitor_sync_sources() only.
GRANT SELECT, INSERT, UPDATE ON devdiag.sync_source TO devdiag_writer;
