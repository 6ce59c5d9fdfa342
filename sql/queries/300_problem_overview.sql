-- Answers: which problems did the runs report in the window, on how many UTC days, and what share of all runs?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
WITH problems AS (
    SELECT
        pc.problem_code,
        sum(pc.runs)::bigint AS runs,
        count(DISTINCT pc.day)::integer AS days_reported,
        min(pc.day) AS first_day,
        max(pc.day) AS last_day
    FROM devdiag.v_problem_counts AS pc
    WHERE
        pc.day BETWEEN :'from'::date AND :'to'::date
        AND (:'tenant' = '' OR pc.tenant = :'tenant')
    GROUP BY pc.problem_code
),

activity AS (
    SELECT sum(td.runs)::bigint AS runs
    FROM devdiag.v_tenant_daily AS td
    WHERE
        td.day BETWEEN :'from'::date AND :'to'::date
        AND (:'tenant' = '' OR td.tenant = :'tenant')
)

SELECT
    p.problem_code,
    p.runs,
    p.days_reported,
    p.first_day,
    p.last_day,
    round(100.0 * p.runs / nullif(a.runs, 0), 1) AS pct_of_runs
FROM problems AS p
CROSS JOIN activity AS a
ORDER BY p.runs DESC, p.problem_code ASC;
