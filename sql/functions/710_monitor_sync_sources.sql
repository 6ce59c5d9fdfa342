-- Why: a stalled sync shows per source (one DevDiag SQLite store each), and
-- monitoring reads it without any grant on the sync's own tables.
CREATE OR REPLACE FUNCTION devdiag.monitor_sync_sources()
RETURNS TABLE (
    source text,
    last_sync_at timestamptz,
    lag_seconds double precision,
    runs_synced bigint,
    rows_rejected bigint
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT
        s.name,
        s.last_sync_at,
        extract(EPOCH FROM now() - coalesce(s.last_sync_at, s.created_at))::double precision,
        s.runs_synced,
        s.rows_rejected
    FROM devdiag.sync_source AS s
    ORDER BY s.name
$$;

COMMENT ON FUNCTION devdiag.monitor_sync_sources() IS
'Monitoring: per sync source, the last completed sync and seconds since (since registration when it never synced).';
