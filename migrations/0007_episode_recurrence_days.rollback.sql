-- Why: undo 0007: episodes without their previous episode's start, and no
-- recurrence rollup (nor the view over it, which sql/ of the earlier release
-- does not have).
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DROP VIEW IF EXISTS devdiag.v_recurrence_days;
DROP TABLE devdiag_rollup.rollup_recurrence_day;
ALTER TABLE devdiag_rollup.rollup_ttr_episode DROP COLUMN prev_started_at;
