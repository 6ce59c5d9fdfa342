-- Fires when: one problem code is reported by at least
-- settings.alert_dominant_share (default 0.5) of a tenant's runs today (UTC
-- day), once the tenant has at least settings.alert_dominant_min_runs
-- (default 20) runs today: one regression is swamping that tenant.
-- Rows: one per tenant and dominating problem.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_dominant_share'
        ), 0.5) AS min_share,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_dominant_min_runs'
        ), 20) AS min_runs
),

today AS (
    SELECT
        d.id,
        d.tenant,
        d.problems
    FROM devdiag.diag_run AS d
    WHERE d.ts >= (devdiag.utc_day(now())::timestamp AT TIME ZONE 'UTC')
),

per_tenant AS (
    SELECT
        t.tenant,
        count(*) AS runs_today
    FROM today AS t
    GROUP BY t.tenant
),

per_problem AS (
    SELECT
        t.tenant,
        p.code AS problem_code,
        count(DISTINCT t.id) AS runs_with_problem
    FROM today AS t
    CROSS JOIN LATERAL jsonb_array_elements_text(t.problems) AS p (code)
    GROUP BY t.tenant, p.code
)

SELECT
    pp.tenant,
    pp.problem_code,
    pp.runs_with_problem,
    pt.runs_today,
    round(pp.runs_with_problem::numeric / pt.runs_today, 4) AS share
FROM per_problem AS pp
INNER JOIN per_tenant AS pt ON pp.tenant = pt.tenant
CROSS JOIN cfg
WHERE
    pt.runs_today >= cfg.min_runs
    AND pp.runs_with_problem >= cfg.min_share * pt.runs_today
ORDER BY share DESC, pp.tenant ASC, pp.problem_code ASC;
