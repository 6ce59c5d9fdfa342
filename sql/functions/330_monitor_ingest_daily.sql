-- Why: monitoring needs ingest volume without seeing any tenant's rows: this
-- runs as the owner (which reads every tenant under FORCE) and returns only
-- counts per UTC day, every day of the window, zero when nothing arrived.
CREATE OR REPLACE FUNCTION devdiag.monitor_ingest_daily(p_days integer DEFAULT 14)
RETURNS TABLE (
    day date,
    runs bigint,
    problem_runs bigint,
    tenants bigint,
    targets bigint,
    environments bigint,
    last_run_at timestamptz
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH bounds AS (
        SELECT
            (now() AT TIME ZONE 'UTC')::date AS today,
            least(greatest(coalesce(p_days, 14), 1), 366) AS n
    ),

    days AS (
        SELECT (b.today - i)::date AS day
        FROM bounds AS b, generate_series(0, b.n - 1) AS i
    ),

    per_day AS (
        SELECT
            devdiag.utc_day(d.ts) AS day,
            count(*)::bigint AS runs,
            count(*) FILTER (WHERE jsonb_array_length(d.problems) > 0)::bigint AS problem_runs,
            count(DISTINCT d.tenant)::bigint AS tenants,
            count(DISTINCT d.target_hash)::bigint AS targets,
            count(DISTINCT d.env_fp)::bigint AS environments,
            max(d.ts) AS last_run_at
        FROM devdiag.diag_run AS d, bounds AS b
        WHERE d.ts >= ((b.today - (b.n - 1)) AT TIME ZONE 'UTC')
        GROUP BY 1
    )

    SELECT
        ds.day,
        coalesce(p.runs, 0),
        coalesce(p.problem_runs, 0),
        coalesce(p.tenants, 0),
        coalesce(p.targets, 0),
        coalesce(p.environments, 0),
        p.last_run_at
    FROM days AS ds
    LEFT JOIN per_day AS p ON ds.day = p.day
    ORDER BY ds.day
$$;

COMMENT ON FUNCTION devdiag.monitor_ingest_daily(integer) IS
'Live runs per UTC day over the last p_days days (1 to 366): counts only, no tenant names or target hashes.';
