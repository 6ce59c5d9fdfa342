-- Answers: which problems were still open at the end of the window, on how many targets, since when, and how many began in it?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
-- Open at the end of the window: started before it ended and not resolved by then.
SELECT
    e.tenant,
    e.problem_code,
    count(DISTINCT e.target_hash)::bigint AS open_targets,
    min(e.started_at) AS oldest_start,
    max(:'to'::date - e.first_seen_day)::integer AS max_age_days,
    count(*) FILTER (WHERE e.first_seen_day >= :'from'::date)::bigint AS started_in_window,
    count(*) FILTER (WHERE e.episode_no > 1)::bigint AS recurrences
FROM devdiag.v_problem_episodes AS e
WHERE
    e.started_at < :'window_end'::timestamptz
    AND (e.resolved_at IS NULL OR e.resolved_at >= :'window_end'::timestamptz)
    AND (:'tenant' = '' OR e.tenant = :'tenant')
GROUP BY e.tenant, e.problem_code
ORDER BY open_targets DESC, max_age_days DESC, e.tenant ASC, e.problem_code ASC;
