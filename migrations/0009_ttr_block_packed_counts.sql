-- Why: the TTR summary (sql/queries/320) adds up the histograms of a window's
-- blocks, bucket by bucket. Summed as 128 separate integers per block row,
-- that took a quarter of the query. This step keeps each block's ttr_counts
-- also as one integer, ttr_counts_packed: the sum of ttr_counts[k] times
-- 10^(12 (128 - k)), so twelve decimal digits per bucket, bucket 0 first
-- (the most significant digits). The sum of those integers, one numeric
-- addition per row, holds the bucket sums in the same places, exact while no
-- bucket of the sum reaches 10^12 episodes. The fold keeps it as it keeps
-- the array, by adding the packed changes (sql/rollups/200_ttr_episodes.sql);
-- here the stored rows get theirs, under the table's lock, so a refresh
-- waits (a few seconds for the 71,000 block rows of 10 million runs).
-- squawk-ignore-file adding-not-nullable-field
SET lock_timeout = '5s';
SET statement_timeout = '0';

ALTER TABLE devdiag_rollup.rollup_ttr_block ADD COLUMN ttr_counts_packed numeric;

UPDATE devdiag_rollup.rollup_ttr_block AS b
SET ttr_counts_packed = (
    SELECT coalesce(sum(u.n::numeric * ('1e' || 12 * (128 - u.k))::numeric), 0)
    FROM unnest(b.ttr_counts) WITH ORDINALITY AS u (n, k)
);

ALTER TABLE devdiag_rollup.rollup_ttr_block ALTER COLUMN ttr_counts_packed SET NOT NULL;

COMMENT ON COLUMN devdiag_rollup.rollup_ttr_block.ttr_counts_packed IS
'ttr_counts as one integer, the sum of ttr_counts[k] * 10^(12 (128 - k)): digits 12k - 11 to 12k of its '
'1536-digit form hold element k. Kept by the fold beside ttr_counts.';
