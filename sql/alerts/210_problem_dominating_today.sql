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

-- Today's runs and each code's runs, from the daily rollups behind
-- v_tenant_daily and v_problem_counts (a run listing a code twice counts
-- once): exact as of the last rollup refresh, whatever the day holds.
per_tenant AS (
    SELECT
        t.tenant,
        t.runs AS runs_today
    FROM devdiag.v_tenant_daily AS t
    WHERE t.day = devdiag.utc_day(now())
),

per_problem AS (
    SELECT
        p.tenant,
        p.problem_code,
        p.runs AS runs_with_problem
    FROM devdiag.v_problem_counts AS p
    WHERE p.day = devdiag.utc_day(now())
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
