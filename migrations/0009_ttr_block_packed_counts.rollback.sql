-- Why: undo 0009: the TTR blocks keep their counts as the array only (nor the
-- views that show the packed form, which sql/ of the earlier release does not
-- have).
SET lock_timeout = '5s';
SET statement_timeout = '60s';

DROP VIEW IF EXISTS devdiag.v_ttr_blocks;
DROP VIEW IF EXISTS devdiag_ref.v_ref_ttr_blocks;
ALTER TABLE devdiag_rollup.rollup_ttr_block DROP COLUMN ttr_counts_packed;
