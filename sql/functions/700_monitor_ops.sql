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
    -- The episodes rollup, not a replay of the raw runs.
    WITH episodes AS (
        SELECT e.problem_code, e.started_at, e.resolved_at
        FROM devdiag_rollup.rollup_ttr_episode AS e
    ),

    open_eps AS (
        SELECT
            count(*) AS n,
            count(DISTINCT o.problem_code) AS codes,
            min(o.started_at) AS oldest
        FROM episodes AS o
        WHERE o.resolved_at IS NULL
    ),

    ttr AS (
        SELECT
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(EPOCH FROM r.resolved_at - r.started_at) / 3600
            ) AS median_hours,
            count(*) AS n
        FROM episodes AS r
        WHERE r.resolved_at >= now() - interval '7 days'
    ),

    fixes AS (
        SELECT
            sum(f.confidence * greatest(f.support, 1)) / nullif(sum(greatest(f.support, 1)), 0) AS confidence,
            count(*) AS n
        FROM devdiag.fix_outcome AS f
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
