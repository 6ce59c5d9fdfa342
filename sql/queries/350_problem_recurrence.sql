-- Answers: which problems keep coming back after a fix: episodes started in the window that are recurrences on the same target?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
SELECT
    e.problem_code,
    count(*)::bigint AS episodes_started,
    count(*) FILTER (WHERE e.episode_no > 1)::bigint AS recurrences,
    round(100.0 * count(*) FILTER (WHERE e.episode_no > 1) / count(*), 1) AS pct_recurrences,
    count(DISTINCT e.target_hash || ' ' || e.tenant)::bigint AS targets
FROM devdiag.v_problem_episodes AS e
WHERE
    -- first_seen_day BETWEEN from AND to: the index on started_at serves this form
    e.started_at >= :'window_start'::timestamptz
    AND e.started_at < :'window_end'::timestamptz
    AND (:'tenant' = '' OR e.tenant = :'tenant')
GROUP BY e.problem_code
ORDER BY recurrences DESC, episodes_started DESC, e.problem_code ASC;
