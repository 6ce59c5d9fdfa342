-- Why: the retention job walks days, not rows: the UTC days that have their
-- own partition under diag_run or diag_run_archive, read from the catalog
-- (the names carry the day; run_partition_for_day gives every one).
CREATE OR REPLACE FUNCTION devdiag.run_partition_days(p_parent regclass)
RETURNS SETOF date
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_date(right(c.relname, 8), 'YYYYMMDD')
    FROM pg_catalog.pg_inherits AS i
    INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
    INNER JOIN pg_catalog.pg_class AS p ON i.inhparent = p.oid
    WHERE i.inhparent = p_parent AND c.relname = p.relname || '_p' || right(c.relname, 8)
        AND right(c.relname, 8) ~ '^[0-9]{8}$'
    ORDER BY 1
$$;

COMMENT ON FUNCTION devdiag.run_partition_days(regclass) IS
'The UTC days that have their own partition under diag_run or diag_run_archive, oldest first.';
