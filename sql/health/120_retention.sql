-- Checks: retention is moving old runs to the archive. ok while the oldest
-- live run is at most settings.retention_days plus
-- settings.health_retention_grace_days (default 2) old, fail beyond (the
-- retention job is not running or falling behind).
-- Rows: check_name, subject, status (ok | warn | fail), value, detail.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'retention_days'
        ), 180) AS retention_days,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'health_retention_grace_days'
        ), 2) AS grace_days
),

-- The oldest live run from diag_run's first non-empty day partition.
live AS (
    SELECT (extract(EPOCH FROM now() - m.oldest_ts) / 86400)::numeric AS oldest_days
    FROM devdiag.v_monitor_tables AS m
    WHERE m.table_name = 'diag_run'
),

archive AS (
    SELECT
        count(*) AS archived_runs,
        max(a.archived_at) AS last_archived_at
    FROM devdiag.diag_run_archive AS a
)

SELECT
    'retention' AS check_name,
    'devdiag.diag_run' AS subject,
    CASE
        WHEN l.oldest_days IS NULL OR l.oldest_days <= cfg.retention_days + cfg.grace_days THEN 'ok'
        ELSE 'fail'
    END AS status,
    round(coalesce(l.oldest_days, 0), 2) AS value,
    'oldest live run ' || round(coalesce(l.oldest_days, 0), 2) || ' days old, retention '
    || cfg.retention_days || ' days; ' || a.archived_runs || ' archived runs, last archived '
    || coalesce(a.last_archived_at::text, 'never') AS detail
FROM live AS l
CROSS JOIN archive AS a
CROSS JOIN cfg;
