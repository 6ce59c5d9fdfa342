-- Why: the monitoring summary's median time to remediation of the week
-- (devdiag.monitor_ops, the Prometheus query devdiag_ops) reads the started_at
-- of every episode resolved in the last seven days. Through the resolved_at
-- index alone each of them is a heap fetch at a random place of the episode
-- table; with started_at in the index the read is an index-only scan. The
-- index keeps its name (the rename gives the new one the old name back) and
-- its key; it is rebuilt while the episode table is
-- locked against the refresh's writes (a rollup table, not written by
-- DevDiag), which takes about a second per million episodes.
-- squawk-ignore-file require-concurrent-index-creation, require-concurrent-index-deletion, renaming-object
SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE INDEX rollup_ttr_episode_resolved_cover_idx ON devdiag_rollup.rollup_ttr_episode
USING btree (resolved_at) INCLUDE (started_at) WHERE (resolved_at IS NOT NULL);
DROP INDEX devdiag_rollup.rollup_ttr_episode_resolved_idx;
ALTER INDEX devdiag_rollup.rollup_ttr_episode_resolved_cover_idx RENAME TO rollup_ttr_episode_resolved_idx;
