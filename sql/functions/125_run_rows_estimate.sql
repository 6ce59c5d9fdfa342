-- Why: the episode replay chooses how to read the runs (probes or one scan)
-- and how many targets to take at once from the runs it may have to read.
-- Counting them would read them; a partition's size gives the number at once
-- and is current where statistics may not be (a day that has just filled).
-- Day partitions before p_from are left out; the DEFAULT partitions are
-- always counted.
CREATE OR REPLACE FUNCTION devdiag.run_rows_estimate(
    p_from timestamptz,
    p_archive boolean,
    OUT parts bigint,
    OUT est_rows numeric
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*), coalesce(sum(pg_catalog.pg_relation_size(c.oid)), 0) / 300.0
    FROM pg_catalog.pg_inherits AS i
    INNER JOIN pg_catalog.pg_class AS c ON i.inhrelid = c.oid
    WHERE (i.inhparent = 'devdiag.diag_run'::regclass OR (p_archive AND i.inhparent = 'devdiag.diag_run_archive'::regclass))
        AND (right(c.relname, 8) !~ '^[0-9]{8}$' OR to_date(right(c.relname, 8), 'YYYYMMDD') >= devdiag.utc_day(p_from))
$$;

COMMENT ON FUNCTION devdiag.run_rows_estimate(timestamptz, boolean) IS
'How many run partitions hold days from p_from on (live, and archived when p_archive), and about how many runs they hold.';
