-- Why: undo the retention settings and the job log.
-- squawk-ignore-file ban-drop-table, prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP TABLE devdiag.job_log;
DELETE FROM devdiag.settings
WHERE key IN ('archive_purge_days', 'retention_batch_size');
