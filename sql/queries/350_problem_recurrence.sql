-- Answers: which problems keep coming back after a fix: episodes started in the window that are recurrences on the same target?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
-- A window of up to 92 days reads the per-day counts of v_recurrence_days, one
-- row per tenant, problem and day: an episode is its target's first in the
-- window when its previous one began before the window's first day. A longer
-- window counts the episodes themselves. The two branches give the same rows.
SELECT
    r.problem_code,
    sum(r.episodes)::bigint AS episodes_started,
    sum(r.recurrences)::bigint AS recurrences,
    round(100.0 * sum(r.recurrences) / sum(r.episodes), 1) AS pct_recurrences,
    sum(r.since_previous[r.first_seen_day - :'from'::date + 1])::bigint AS targets
FROM devdiag.v_recurrence_days AS r
WHERE
    r.first_seen_day BETWEEN :'from'::date AND :'to'::date
    AND (:'tenant' = '' OR r.tenant = :'tenant')
    AND :'to'::date - :'from'::date < 92
GROUP BY r.problem_code
UNION ALL
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
    AND :'to'::date - :'from'::date >= 92
GROUP BY e.problem_code
ORDER BY recurrences DESC, episodes_started DESC, problem_code ASC;
