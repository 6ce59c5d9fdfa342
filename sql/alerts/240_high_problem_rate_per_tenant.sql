-- Fires when: more than settings.alert_problem_run_share (default 0.5) of a
-- tenant's runs in the last 24 hours reported at least one problem, once the
-- tenant has at least settings.alert_problem_rate_min_runs (default 20) runs
-- in that window (a rate, so large and small tenants are judged alike).
-- Rows: one per tenant over the threshold.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_problem_run_share'
        ), 0.5) AS max_share,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_problem_rate_min_runs'
        ), 20) AS min_runs
),

rates AS (
    SELECT
        d.tenant,
        count(*) AS runs_24h,
        count(*) FILTER (WHERE jsonb_array_length(d.problems) > 0) AS problem_runs_24h
    FROM devdiag.diag_run AS d
    WHERE d.ts >= now() - interval '24 hours'
    GROUP BY d.tenant
)

SELECT
    r.tenant,
    r.problem_runs_24h,
    r.runs_24h,
    round(r.problem_runs_24h::numeric / r.runs_24h, 4) AS problem_rate
FROM rates AS r
CROSS JOIN cfg
WHERE
    r.runs_24h >= cfg.min_runs
    AND r.problem_runs_24h > cfg.max_share * r.runs_24h
ORDER BY problem_rate DESC, r.tenant ASC;
