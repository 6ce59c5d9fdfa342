-- Why: undo 0003: the fix totals rollup without its weight sums (the
-- monitoring summary of the earlier release sums fix_outcome itself).
SET lock_timeout = '5s';

ALTER TABLE devdiag_rollup.rollup_fix_total
DROP COLUMN weighted_confidence_sum,
DROP COLUMN weight_sum;
