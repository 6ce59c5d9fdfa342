-- Answers: how long did remediation take, per problem and overall, for episodes resolved in the window?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
SELECT
    coalesce(t.problem_code, '(all problems)') AS problem_code,
    count(*)::bigint AS episodes,
    round(avg(t.ttr_days), 2) AS avg_ttr_days,
    max(t.ttr_days) AS max_ttr_days,
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ttr_hours)::numeric, 2) AS median_ttr_hours,
    round(percentile_cont(0.9) WITHIN GROUP (ORDER BY t.ttr_hours)::numeric, 2) AS p90_ttr_hours
FROM devdiag.v_ttr_days AS t
WHERE
    -- first_zero_day BETWEEN from AND to: the index on resolved_at serves this form
    t.resolved_at >= :'window_start'::timestamptz
    AND t.resolved_at < :'window_end'::timestamptz
    AND (:'tenant' = '' OR t.tenant = :'tenant')
GROUP BY GROUPING SETS ((t.problem_code), ())
ORDER BY grouping(t.problem_code) ASC, episodes DESC, problem_code ASC;
