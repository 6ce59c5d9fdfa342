-- Fires when: the fixes a tenant credited in the last 7 days carry a mean
-- confidence at least settings.alert_confidence_drop (default 0.2) below the
-- mean of the same fix's outcomes last credited 7 to 35 days ago, with at
-- least settings.alert_confidence_min_outcomes (default 2) outcomes in each
-- window. fix_outcome keeps only the latest confidence per environment and
-- its ts is the last credit, so recently credited outcomes carry the newest
-- confidence: when a fix stops working, they fall below the older ones.
-- Rows: one per tenant and fix.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_confidence_drop'
        ), 0.2) AS min_drop,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_confidence_min_outcomes'
        ), 2) AS min_outcomes
),

windows AS (
    SELECT
        f.tenant,
        f.fix_code,
        avg(f.confidence) FILTER (WHERE f.ts >= now() - interval '7 days') AS recent_confidence,
        count(*) FILTER (WHERE f.ts >= now() - interval '7 days') AS recent_outcomes,
        avg(f.confidence) FILTER (WHERE f.ts < now() - interval '7 days') AS baseline_confidence,
        count(*) FILTER (WHERE f.ts < now() - interval '7 days') AS baseline_outcomes
    FROM devdiag.fix_outcome AS f
    WHERE f.ts >= now() - interval '35 days'
    GROUP BY f.tenant, f.fix_code
)

SELECT
    w.tenant,
    w.fix_code,
    round(w.recent_confidence::numeric, 4) AS recent_confidence,
    round(w.baseline_confidence::numeric, 4) AS baseline_confidence,
    w.recent_outcomes,
    w.baseline_outcomes
FROM windows AS w
CROSS JOIN cfg
WHERE
    w.recent_outcomes >= cfg.min_outcomes
    AND w.baseline_outcomes >= cfg.min_outcomes
    AND w.baseline_confidence - w.recent_confidence >= cfg.min_drop
ORDER BY w.baseline_confidence - w.recent_confidence DESC, w.tenant ASC, w.fix_code ASC;
