-- Why: undo the stored episode number (the views reading it are dropped by migrate first).
SET lock_timeout = '5s';
SET statement_timeout = '60s';
ALTER TABLE devdiag.rollup_ttr_episode DROP CONSTRAINT rollup_ttr_episode_episode_no_set;
ALTER TABLE devdiag.rollup_ttr_episode DROP COLUMN episode_no;
