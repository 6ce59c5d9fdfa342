-- Why: the episode number check was added NOT VALID so adding it took no long
-- lock; validating here scans the episodes under a lock that lets writers
-- continue.
-- depends: 0042_add_episode_no_to_rollup_ttr_episode
SET lock_timeout = '5s';
SET statement_timeout = '0';

ALTER TABLE devdiag.rollup_ttr_episode VALIDATE CONSTRAINT rollup_ttr_episode_episode_no_set;
