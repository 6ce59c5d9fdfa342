-- Why: the TTR summary (sql/queries/320) adds up the histograms of a window's
-- blocks, bucket by bucket. Summed as 128 separate integers per block row,
-- that took a quarter of the query. This step keeps each block's ttr_counts
-- also as one integer, ttr_counts_packed: twelve decimal digits per bucket,
-- bucket 0 first (the most significant digits). The sum of those numbers,
-- one numeric addition per row, holds the bucket sums in the same places,
-- exact while no bucket of the sum reaches 10^12 episodes. It is a stored
-- generated column, so every write of ttr_counts keeps it, and the folds do
-- not change. Adding it rewrites the rollup under its lock, so a refresh
-- waits for it (about 4 s for the 71,000 block rows of 10 million runs).
-- squawk-ignore-file adding-field-with-default
SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE FUNCTION devdiag.ttr_counts_packed(counts integer[])
RETURNS numeric
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
-- Counts of a stored row are never negative: they are laid out as digits.
-- A fold's proposed row (INSERT ... ON CONFLICT, whose generated columns are
-- computed before the conflict is found) holds signed changes: those are
-- added up as numbers, which gives the same integer for non-negative counts.
-- A NULL element has no digits: the cast fails and the write is refused.
RETURN CASE
    WHEN 0 <= all(counts)
        THEN nullif(array_to_string(array(SELECT lpad(c::text, 12, '0') FROM unnest(counts) AS c), '', 'NULL'), '')::numeric
    ELSE (
        SELECT sum(coalesce(u.c::text, 'NULL')::numeric * ('1e' || 12 * (cardinality(counts) - u.k))::numeric)
        FROM unnest(counts) WITH ORDINALITY AS u (c, k)
    )
END;

COMMENT ON FUNCTION devdiag.ttr_counts_packed(integer[]) IS
'Histogram counts as one integer: the sum of element k times 10^(12 (n - k)) for n elements, so twelve decimal '
'digits per element, the first most significant. '
'Sums of such integers hold the element-wise sums while every element sum stays below 10^12.';

ALTER TABLE devdiag_rollup.rollup_ttr_block
ADD COLUMN ttr_counts_packed numeric GENERATED ALWAYS AS (devdiag.ttr_counts_packed(ttr_counts)) STORED;

COMMENT ON COLUMN devdiag_rollup.rollup_ttr_block.ttr_counts_packed IS
'ttr_counts as one integer (devdiag.ttr_counts_packed): digits 12k - 11 to 12k of its 1536-digit form hold element k.';
