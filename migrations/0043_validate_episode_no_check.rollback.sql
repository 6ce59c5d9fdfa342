-- Why: a validated check cannot be un-validated; re-adding it NOT VALID is
-- the closest reverse, and the column itself goes in the previous step.
SET lock_timeout = '5s';
SET statement_timeout = '60s';
ALTER TABLE devdiag.rollup_ttr_episode DROP CONSTRAINT rollup_ttr_episode_episode_no_set;
ALTER TABLE devdiag.rollup_ttr_episode
ADD CONSTRAINT rollup_ttr_episode_episode_no_set CHECK (episode_no IS NOT NULL AND episode_no >= 1) NOT VALID;
