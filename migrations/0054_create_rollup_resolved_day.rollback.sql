-- Why: undo rollup_resolved_day (the views reading it are dropped by migrate first).
-- squawk-ignore-file ban-drop-table
SET lock_timeout = '5s';
SET statement_timeout = '60s';
-- The triggers that write to it (sql/functions/597) go first; the next make
-- migrate attaches them again and fills the table from the episode days.
DROP TRIGGER IF EXISTS resolved_day_after_insert ON devdiag.rollup_episode_day;
DROP TRIGGER IF EXISTS resolved_day_after_update ON devdiag.rollup_episode_day;
DROP TRIGGER IF EXISTS resolved_day_after_delete ON devdiag.rollup_episode_day;
DROP TABLE devdiag.rollup_resolved_day;
