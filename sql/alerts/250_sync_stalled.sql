-- Fires when: a sync source (devdiag.sync_source, one row per DevDiag SQLite
-- store) has not completed a sync for settings.alert_sync_stall_minutes
-- (default 120) minutes, or never completed one since it was registered that
-- long ago.
-- Rows: one per stalled source.
WITH cfg AS (
    SELECT coalesce((
        SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
        WHERE s.key = 'alert_sync_stall_minutes'
    ), 120) AS stall_minutes
)

SELECT
    src.name AS source,
    src.last_sync_at,
    round((extract(EPOCH FROM now() - coalesce(src.last_sync_at, src.created_at)) / 60)::numeric, 1)
        AS minutes_since_sync,
    src.run_watermark,
    cfg.stall_minutes AS threshold_minutes
FROM devdiag.sync_source AS src
CROSS JOIN cfg
WHERE coalesce(src.last_sync_at, src.created_at) < now() - make_interval(mins => cfg.stall_minutes::integer)
ORDER BY minutes_since_sync DESC, src.name ASC;
