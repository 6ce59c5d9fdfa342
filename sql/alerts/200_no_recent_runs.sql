-- Fires when: no run has arrived for settings.alert_silence_minutes (default
-- 120) minutes, or the warehouse holds no live run at all: DevDiag writers
-- or the sync have stopped.
-- Rows: one, with the newest run's time (NULL when there is none).
WITH cfg AS (
    SELECT coalesce((
        SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
        WHERE s.key = 'alert_silence_minutes'
    ), 120) AS silence_minutes
),

-- The newest run from diag_run's last non-empty day partition, not a scan of every day.
newest AS (
    SELECT m.newest_ts AS last_run_at
    FROM devdiag.v_monitor_tables AS m
    WHERE m.table_name = 'diag_run'
)

SELECT
    n.last_run_at,
    round((extract(EPOCH FROM now() - n.last_run_at) / 60)::numeric, 1) AS minutes_silent,
    cfg.silence_minutes AS threshold_minutes
FROM newest AS n
CROSS JOIN cfg
WHERE
    n.last_run_at IS NULL
    OR n.last_run_at < now() - make_interval(mins => cfg.silence_minutes::integer);
