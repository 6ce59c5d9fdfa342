-- Why: two rollups keep a count per bucket in a fixed-length array
-- (rollup_recurrence_day.since_previous, rollup_ttr_block.ttr_counts). Their
-- folds build each row's array from the few buckets that moved: runs of one
-- value (array_fill) joined in bucket order by this aggregate, so a row costs
-- as many steps as it has moved buckets, not one per element of the array.
-- (sqlfluff's postgres dialect does not parse CREATE AGGREGATE)
CREATE OR REPLACE AGGREGATE devdiag.int_array_concat(integer []) (  -- noqa: PRS
    SFUNC = array_cat,
    STYPE = integer [],
    INITCOND = '{}'
);

REVOKE ALL ON FUNCTION devdiag.int_array_concat(integer []) FROM public;

COMMENT ON AGGREGATE devdiag.int_array_concat(integer []) IS
'Joins integer arrays end to end in the aggregate''s order (ORDER BY inside the call).';
