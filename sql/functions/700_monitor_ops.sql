-- Why: the Prometheus exporter logs in as monitoring, which may not read
-- tenant rows; this runs as the owner and returns one row of warehouse-wide
-- aggregates (open problems, fix confidence, time to remediation, the
-- retention setting) with no
-- tenant name or target hash in it.
CREATE OR REPLACE FUNCTION devdiag.monitor_ops()
RETURNS TABLE (
    open_episodes bigint,
    open_problem_codes bigint,
    oldest_open_started_at timestamptz,
    fix_confidence_avg double precision,
    fix_outcomes bigint,
    ttr_median_hours_7d double precision,
    ttr_resolved_7d bigint,
    retention_days double precision
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- Rollups only, so a scrape costs the same at any size: open episodes
    -- per tenant and problem, the fix groups' weight sums; the week's
    -- resolved episodes are read by their resolved_at index.
    WITH open_eps AS (
        SELECT
            coalesce(sum(s.open_episodes), 0)::bigint AS n,
            count(DISTINCT s.problem_code) FILTER (WHERE s.open_episodes > 0) AS codes,
            (
                SELECT e.started_at
                FROM devdiag_rollup.rollup_ttr_episode AS e
                WHERE e.resolved_at IS NULL
                ORDER BY e.started_at
                LIMIT 1
            ) AS oldest
        FROM devdiag_rollup.rollup_episode_stat AS s
    ),
    ttr AS (
        SELECT
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY date_part('epoch', r.resolved_at - r.started_at) / 3600
            ) AS median_hours,
            count(*) AS n
        FROM devdiag_rollup.rollup_ttr_episode AS r
        WHERE r.resolved_at >= now() - interval '7 days'
    ),
    fixes AS (
        SELECT
            sum(f.weighted_confidence_sum) / nullif(sum(f.weight_sum), 0) AS confidence,
            coalesce(sum(f.environments), 0)::bigint AS n
        FROM devdiag_rollup.rollup_fix_total AS f
    )
    SELECT
        o.n,
        o.codes,
        o.oldest,
        fx.confidence::double precision,
        fx.n,
        t.median_hours::double precision,
        t.n,
        (
            SELECT (st.value #>> '{}')::double precision
            FROM devdiag.settings AS st
            WHERE st.key = 'retention_days'
        )
    FROM open_eps AS o, ttr AS t, fixes AS fx
$$;

COMMENT ON FUNCTION devdiag.monitor_ops() IS
'Monitoring: open remediation episodes, support-weighted fix confidence, median TTR of the last 7 days, retention_days; '
'aggregates only.';
