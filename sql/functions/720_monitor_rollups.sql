-- Why: the views are exact as of the last refresh, so how far the rollups
-- trail the runs is what monitoring must see. Runs as the owner (reading the
-- sequence and the refresh state); no tenant names in what it returns.
CREATE OR REPLACE FUNCTION devdiag.monitor_rollups()
RETURNS TABLE (
    folded_through bigint,
    ingested_through bigint,
    pending_ids bigint,
    refreshed_at timestamptz,
    lag_seconds double precision
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT
        s.folded_through,
        q.last_id,
        greatest(q.last_id - s.folded_through, 0),
        s.refreshed_at,
        -- Nothing waiting: no lag. Something waiting (runs, or purged archive
        -- days still counted): it has waited at most since the last refresh.
        CASE WHEN q.last_id > s.folded_through OR EXISTS (SELECT FROM devdiag_rollup.rollup_purged_day)
            THEN extract(EPOCH FROM now() - s.refreshed_at)::double precision
            ELSE 0::double precision END
    FROM devdiag_rollup.rollup_refresh_state AS s
    CROSS JOIN (
        SELECT CASE WHEN i.is_called THEN i.last_value ELSE 0 END AS last_id FROM devdiag.ingest_seq AS i
    ) AS q
$$;

COMMENT ON FUNCTION devdiag.monitor_rollups() IS
'Monitoring: the all-tenant refresh watermark, the last ingest id drawn, how many ids wait to be folded, '
'when the rollups were last refreshed and how long rows (or purged archive days) have waited (0 when none wait).';

-- Why: the exporter's runs-per-day gauges are scraped every few seconds; the
-- day rollup answers them without reading runs (as of the last refresh, like
-- every view). No tenant names: counts only.
CREATE OR REPLACE FUNCTION devdiag.monitor_runs_recent()
RETURNS TABLE (
    today bigint,
    problem_runs_today bigint,
    yesterday bigint,
    tenants_today bigint
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT
        coalesce(sum(d.runs) FILTER (WHERE d.day = devdiag.utc_day(now())), 0)::bigint,
        coalesce(sum(d.problem_runs) FILTER (WHERE d.day = devdiag.utc_day(now())), 0)::bigint,
        coalesce(sum(d.runs) FILTER (WHERE d.day = devdiag.utc_day(now()) - 1), 0)::bigint,
        count(*) FILTER (WHERE d.day = devdiag.utc_day(now()) AND d.runs > 0)::bigint
    FROM devdiag_rollup.rollup_tenant_day AS d
    WHERE d.day >= devdiag.utc_day(now()) - 1
$$;

COMMENT ON FUNCTION devdiag.monitor_runs_recent() IS
'Monitoring: runs of the current and previous UTC day, problem runs and tenants of the current day, '
'from the day rollup (as of the last refresh).';
