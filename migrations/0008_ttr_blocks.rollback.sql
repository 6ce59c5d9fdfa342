-- Why: undo 0008: no TTR histogram rollup, no bucket index on the episodes
-- (nor the views over the rollup and the bucket function, which sql/ of the
-- earlier release does not have).
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DROP VIEW IF EXISTS devdiag.v_ttr_blocks;
DROP VIEW IF EXISTS devdiag_ref.v_ref_ttr_blocks;
DROP INDEX devdiag_rollup.rollup_ttr_episode_bucket_idx;
DROP TABLE devdiag_rollup.rollup_ttr_block;
DROP FUNCTION devdiag.ttr_bucket(interval);
