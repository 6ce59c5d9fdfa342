-- Why: the TTR summary (sql/queries/320) takes percentiles of ttr_hours over
-- the episodes resolved in a window. They do not add up across days, but a
-- histogram does: per tenant, problem and aligned block of 1, 2, 4, ... 64
-- UTC days, the resolved episodes counted by devdiag.ttr_bucket of their
-- time to resolve. A window is a handful of blocks per tenant and problem;
-- their counts say which bucket holds each percentile, and only that
-- bucket's episodes are read from v_ttr_days (an index serves it).
-- ttr_counts_packed is the same histogram as one integer, so a window's
-- histograms add up with one numeric addition per row.
CREATE OR REPLACE VIEW devdiag.v_ttr_blocks
WITH (security_invoker = TRUE)
AS
SELECT
    b.tenant,
    b.problem_code,
    b.block_days,
    b.block_start,
    b.episodes,
    b.ttr_days_sum,
    b.ttr_counts,
    b.ttr_counts_packed
FROM devdiag_rollup.rollup_ttr_block AS b;

COMMENT ON VIEW devdiag.v_ttr_blocks IS
'Resolved remediation episodes (the rows of v_ttr_days) per tenant, problem and block of first_zero_day, '
'counted by time to resolve: every episode counts once in a block of each length.';
COMMENT ON COLUMN devdiag.v_ttr_blocks.block_days IS 'Length of the block in UTC days: 1, 2, 4, 8, 16, 32 or 64.';
COMMENT ON COLUMN devdiag.v_ttr_blocks.block_start IS
'First UTC day of the block: a multiple of block_days days after 1970-01-01.';
COMMENT ON COLUMN devdiag.v_ttr_blocks.episodes IS 'Episodes whose first_zero_day falls in the block.';
COMMENT ON COLUMN devdiag.v_ttr_blocks.ttr_days_sum IS 'The sum of their ttr_days.';
COMMENT ON COLUMN devdiag.v_ttr_blocks.ttr_counts IS
'Element k (1 to 128): of those episodes, the ones with devdiag.ttr_bucket(resolved_at - started_at) = k - 1.';
COMMENT ON COLUMN devdiag.v_ttr_blocks.ttr_counts_packed IS
'ttr_counts as one integer: twelve decimal digits per element, element 1 first. sum() of it gives the sums of '
'ttr_counts element by element (lpad the sum to 1536 digits; element k is digits 12k - 11 to 12k).';
