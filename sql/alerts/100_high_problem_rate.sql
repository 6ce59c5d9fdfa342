-- Fires when: a tenant's problem reports today (the current UTC day, summed
-- over problem codes as DevDiag's "High Problem Rate" alert does)
-- exceed settings.alert_daily_problems (default 100).
-- Rows: one per tenant over the threshold.
WITH cfg AS (
    SELECT coalesce((
        SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
        WHERE s.key = 'alert_daily_problems'
    ), 100) AS max_daily_problems
)

SELECT
    pc.tenant,
    pc.day,
    sum(pc.runs)::bigint AS daily_problems,
    cfg.max_daily_problems AS threshold
FROM devdiag.v_problem_counts AS pc
CROSS JOIN cfg
WHERE pc.day = devdiag.utc_day(now())
GROUP BY pc.tenant, pc.day, cfg.max_daily_problems
HAVING sum(pc.runs) > cfg.max_daily_problems
ORDER BY daily_problems DESC, pc.tenant ASC;
