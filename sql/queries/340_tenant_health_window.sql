-- Answers: per tenant, how healthy was it over the window: runs, share with problems, problems reported, remediation, open at the end, fix success rate?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
-- runs, and the episodes resolved in the window (their mean ttr_days is
-- exactly sum / count, as avg() computes it)
WITH activity AS (
    SELECT
        td.tenant,
        sum(td.runs)::bigint AS runs,
        sum(td.problem_runs)::bigint AS problem_runs,
        sum(td.episodes_resolved)::bigint AS episodes_resolved,
        (sum(td.ttr_days_resolved) / nullif(sum(td.episodes_resolved), 0))::double precision AS avg_ttr_days
    FROM devdiag.v_tenant_daily AS td
    WHERE td.day BETWEEN :'from'::date AND :'to'::date
    GROUP BY td.tenant
),

-- distinct problems per tenant as a count of distinct pairs: hashed once,
-- instead of count(DISTINCT) sorting each tenant's rows
reported AS (
    SELECT
        p.tenant,
        count(*)::bigint AS problems_reported
    FROM (
        SELECT DISTINCT
            pc.tenant,
            pc.problem_code
        FROM devdiag.v_problem_counts AS pc
        WHERE pc.day BETWEEN :'from'::date AND :'to'::date
    ) AS p
    GROUP BY p.tenant
),

-- open at the end of the window: started on or before its last day, not
-- resolved by then (still open: an index-only scan of the open rows; or
-- resolved after it, for a window in the past); UNION keeps each tenant and
-- problem once
still_open AS (
    SELECT
        o.tenant,
        count(*)::bigint AS open_problems
    FROM (
        SELECT
            d.tenant,
            d.problem_code
        FROM devdiag.v_episode_days AS d
        WHERE d.is_open AND d.first_seen_day <= :'to'::date
        UNION
        SELECT
            d.tenant,
            d.problem_code
        FROM devdiag.v_episode_days AS d
        WHERE d.first_zero_day > :'to'::date AND d.first_seen_day <= :'to'::date
    ) AS o
    GROUP BY o.tenant
)

SELECT
    h.tenant,
    coalesce(a.runs, 0)::bigint AS runs,
    round(100.0 * a.problem_runs / nullif(a.runs, 0), 1) AS pct_runs_with_problems,
    coalesce(r.problems_reported, 0)::bigint AS problems_reported,
    coalesce(a.episodes_resolved, 0)::bigint AS episodes_resolved,
    round(a.avg_ttr_days::numeric, 2) AS avg_ttr_days,
    coalesce(o.open_problems, 0)::bigint AS open_problems_at_end,
    round(h.fix_success_rate::numeric, 3) AS fix_success_rate_all_time
FROM devdiag.v_tenant_health AS h
LEFT JOIN activity AS a ON h.tenant = a.tenant
LEFT JOIN reported AS r ON h.tenant = r.tenant
LEFT JOIN still_open AS o ON h.tenant = o.tenant
WHERE :'tenant' = '' OR h.tenant = :'tenant'
ORDER BY runs DESC, h.tenant ASC;
