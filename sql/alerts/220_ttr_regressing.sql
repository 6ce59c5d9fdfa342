-- Fires when: a tenant's median time-to-remediation of episodes resolved in
-- the last 7 days is more than settings.alert_ttr_regression_factor (default
-- 1.5) times its median over the 28 days before, with at least
-- settings.alert_ttr_min_episodes (default 5) resolved episodes in each window.
-- Rows: one per regressing tenant, medians in hours.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_ttr_regression_factor'
        ), 1.5) AS factor,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_ttr_min_episodes'
        ), 5) AS min_episodes
),

windows AS (
    SELECT
        t.tenant,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ttr_hours) FILTER (WHERE t.resolved_at >= now() - interval '7 days') AS recent_median_hours,
        count(*) FILTER (WHERE t.resolved_at >= now() - interval '7 days') AS recent_episodes,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ttr_hours) FILTER (WHERE t.resolved_at < now() - interval '7 days') AS baseline_median_hours,
        count(*) FILTER (WHERE t.resolved_at < now() - interval '7 days') AS baseline_episodes
    FROM devdiag.v_ttr_days AS t
    WHERE t.resolved_at >= now() - interval '35 days'
    GROUP BY t.tenant
)

SELECT
    w.tenant,
    round(w.recent_median_hours::numeric, 2) AS recent_median_hours,
    round(w.baseline_median_hours::numeric, 2) AS baseline_median_hours,
    w.recent_episodes,
    w.baseline_episodes
FROM windows AS w
CROSS JOIN cfg
WHERE
    w.recent_episodes >= cfg.min_episodes
    AND w.baseline_episodes >= cfg.min_episodes
    AND w.recent_median_hours > cfg.factor * w.baseline_median_hours
ORDER BY w.recent_median_hours / nullif(w.baseline_median_hours, 0) DESC NULLS FIRST, w.tenant ASC;
