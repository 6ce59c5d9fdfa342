-- Checks: how long ago the newest live run arrived. ok within
-- settings.health_fresh_minutes (default 120), warn within
-- settings.health_stale_minutes (default 1440), fail beyond or with no run.
-- Rows: check_name, subject, status (ok | warn | fail), value, detail.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'health_fresh_minutes'
        ), 120) AS fresh_minutes,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'health_stale_minutes'
        ), 1440) AS stale_minutes
),

-- The newest run from diag_run's last non-empty day partition, not a scan of every day.
newest AS (
    SELECT
        m.newest_ts AS last_run_at,
        (extract(EPOCH FROM now() - m.newest_ts) / 60)::numeric AS age_minutes
    FROM devdiag.v_monitor_tables AS m
    WHERE m.table_name = 'diag_run'
)

SELECT
    'freshness' AS check_name,
    'devdiag.diag_run' AS subject,
    CASE
        WHEN n.last_run_at IS NULL THEN 'fail'
        WHEN n.age_minutes <= cfg.fresh_minutes THEN 'ok'
        WHEN n.age_minutes <= cfg.stale_minutes THEN 'warn'
        ELSE 'fail'
    END AS status,
    round(n.age_minutes, 1) AS value,
    coalesce(
        'newest run ' || round(n.age_minutes, 1) || ' minutes ago (' || n.last_run_at || ')',
        'no live run at all'
    ) AS detail
FROM newest AS n
CROSS JOIN cfg;
