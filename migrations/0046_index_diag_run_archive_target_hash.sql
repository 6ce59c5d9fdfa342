-- Why: the archive is read by target only when a late run lands before the
-- newest archived run (the episode replay then needs that target's archived
-- runs), a few hundred rows per target at most; every retention move, on the
-- other hand, pays for the index on each row it adds. The B-tree on
-- (tenant, target_hash, ts, id) cost about 4.5 µs per moved run (a wide key
-- inserted at random places: a third of the move); a hash index on
-- target_hash finds the same rows for the replay at about a fifth of that.
-- 0047 then drops the B-tree. Built CONCURRENTLY so the retention job and
-- the sync are never blocked; a failed build is dropped by the rollback.
-- transactional: false
-- depends: 0045_index_rollup_ttr_episode_resolved_at
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS diag_run_archive_target_hash_idx
ON devdiag.diag_run_archive USING hash (target_hash);
