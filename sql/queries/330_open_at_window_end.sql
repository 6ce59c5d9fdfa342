-- Answers: which problems were still open at the end of the window, on how many targets, since when, and how many began in it?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
-- Open at the end of the window: started on or before its last day and not
-- resolved by then. The window ends at a UTC midnight, so the episodes' days
-- decide it and v_episode_days counts them; a target has at most one episode
-- of a problem open at any moment, so the episodes are the targets.
SELECT
    o.tenant,
    o.problem_code,
    o.open_targets,
    f.oldest_start,
    (:'to'::date - o.oldest_day)::integer AS max_age_days,
    o.started_in_window,
    o.recurrences
FROM (
    SELECT
        d.tenant,
        d.problem_code,
        sum(d.episodes)::bigint AS open_targets,
        min(d.first_seen_day) AS oldest_day,
        coalesce(sum(d.episodes) FILTER (WHERE d.first_seen_day >= :'from'::date), 0)::bigint AS started_in_window,
        sum(d.recurrences)::bigint AS recurrences
    FROM (
        -- still open (an index-only scan of the open rows), or resolved
        -- after the window's end (a window in the past)
        SELECT
            x.tenant,
            x.problem_code,
            x.first_seen_day,
            x.episodes,
            x.recurrences
        FROM devdiag.v_episode_days AS x
        WHERE x.is_open AND x.first_seen_day <= :'to'::date
        UNION ALL
        SELECT
            x.tenant,
            x.problem_code,
            x.first_seen_day,
            x.episodes,
            x.recurrences
        FROM devdiag.v_episode_days AS x
        WHERE x.first_zero_day > :'to'::date AND x.first_seen_day <= :'to'::date
    ) AS d
    WHERE :'tenant' = '' OR d.tenant = :'tenant'
    GROUP BY d.tenant, d.problem_code
) AS o
-- the oldest start: the first of those episodes on the oldest day
LEFT JOIN
    LATERAL (
        SELECT e.started_at AS oldest_start
        FROM devdiag.v_problem_episodes AS e
        WHERE
            e.tenant = o.tenant
            AND e.problem_code = o.problem_code
            AND e.started_at >= (o.oldest_day::timestamp AT TIME ZONE 'UTC')
            AND e.started_at < ((o.oldest_day + 1)::timestamp AT TIME ZONE 'UTC')
            AND (e.resolved_at IS NULL OR e.resolved_at >= :'window_end'::timestamptz)
        ORDER BY e.started_at
        LIMIT 1
    ) AS f
    ON TRUE
ORDER BY o.open_targets DESC, max_age_days DESC, o.tenant ASC, o.problem_code ASC;
