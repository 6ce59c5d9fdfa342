-- Why: undo 0004: the resolved_at index without started_at.
-- squawk-ignore-file require-concurrent-index-creation, require-concurrent-index-deletion, renaming-object
SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE INDEX rollup_ttr_episode_resolved_plain_idx ON devdiag_rollup.rollup_ttr_episode
USING btree (resolved_at) WHERE (resolved_at IS NOT NULL);
DROP INDEX devdiag_rollup.rollup_ttr_episode_resolved_idx;
ALTER INDEX devdiag_rollup.rollup_ttr_episode_resolved_plain_idx RENAME TO rollup_ttr_episode_resolved_idx;
