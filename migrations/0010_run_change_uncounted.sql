-- Why: a run committed while a refresh waits for its tenant lies above that
-- refresh's watermark (the next refresh folds it), yet that refresh's replay
-- of its target's episodes reads it. Deleted or changed by the owner before
-- the next refresh, such a version has no count to take out, but its
-- target's episodes still hold it. rollup_run_change now keeps it too, marked
-- as never counted: the refresh replays its target from it and moves no
-- count. (Versions queued before this step were all counted.)
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER TABLE devdiag_rollup.rollup_run_change ADD COLUMN counted boolean NOT NULL DEFAULT TRUE;

COMMENT ON COLUMN devdiag_rollup.rollup_run_change.counted IS
'Whether the version was in the counts (at or below its tenant''s watermark when it left): the refresh takes it out '
'of them; a version never counted is queued so that its target''s episodes are replayed from it.';

COMMENT ON TABLE devdiag_rollup.rollup_run_change IS
'Old versions of runs that were updated or deleted, waiting for the refresh to take them out of the rollups '
'(counted ones) and to replay their targets'' episodes from them (all).';
