-- Why: freshness of the tenant tables for alerting, without rows: min/max of
-- ts of the run tables come from their end partitions, so a Grafana refresh
-- never scans 10M rows (row estimates are in pg_stat_user_tables, which every
-- role may read).
CREATE OR REPLACE FUNCTION devdiag.monitor_tables()
RETURNS TABLE (
    table_name text,
    oldest_ts timestamptz,
    newest_ts timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'diag_run', b.oldest_ts, b.newest_ts FROM devdiag.run_ts_bounds('devdiag.diag_run') AS b
    UNION ALL
    SELECT 'diag_run_archive', b.oldest_ts, b.newest_ts FROM devdiag.run_ts_bounds('devdiag.diag_run_archive') AS b
    UNION ALL
    SELECT 'fix_outcome', min(f.ts), max(f.ts) FROM devdiag.fix_outcome AS f
$$;

COMMENT ON FUNCTION devdiag.monitor_tables() IS
'Per tenant table: oldest and newest ts (NULL when empty); no row content.';
