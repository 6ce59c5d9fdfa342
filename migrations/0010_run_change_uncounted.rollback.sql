-- Why: undo 0010: the queue keeps counted versions only again (versions never
-- counted that wait are dropped with the column's rows; rollup_rebuild()
-- recounts the episodes from the runs if any waited).
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DELETE FROM devdiag_rollup.rollup_run_change
WHERE NOT counted;
ALTER TABLE devdiag_rollup.rollup_run_change DROP COLUMN counted;

COMMENT ON TABLE devdiag_rollup.rollup_run_change IS
'Old versions of folded runs that were updated or deleted, waiting for the refresh to take them out of the '
'rollups.';
