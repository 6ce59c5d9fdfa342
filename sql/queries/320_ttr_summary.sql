-- Answers: how long did remediation take, per problem and overall, for episodes resolved in the window?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
-- The medians and 90th percentiles do not add up across days, so this reads
-- v_ttr_blocks: the window as aligned blocks of 1, 2, 4, ... 64 days, and
-- per block the resolved episodes counted by devdiag.ttr_bucket of their time
-- to resolve. Their counts say which bucket holds each percentile's rows;
-- only those buckets' episodes of the window are read from v_ttr_days and
-- sorted. The answer is the one percentile_cont over every episode of the
-- window gives: the same rows, the same interpolation.
WITH RECURSIVE blocks AS (
    -- from each day on, the longest block that starts there and ends in the window
    SELECT
        :'from'::date AS next_day,
        NULL::integer AS block_days,
        NULL::date AS block_start
    UNION ALL
    SELECT
        b.next_day + s.block_days AS next_day,
        s.block_days,
        b.next_day AS block_start
    FROM blocks AS b
    CROSS JOIN
        LATERAL (
            SELECT max(l.days) AS block_days
            FROM unnest(ARRAY[1, 2, 4, 8, 16, 32, 64]) AS l (days)
            WHERE (b.next_day - date '1970-01-01') % l.days = 0 AND b.next_day + l.days - 1 <= :'to'::date
        ) AS s
    WHERE b.next_day <= :'to'::date
),

per_problem AS MATERIALIZED (
    -- the histograms add up as their packed integers (v_ttr_blocks):
    -- one numeric addition per row instead of one per bucket
    SELECT
        t.problem_code,
        sum(t.episodes)::bigint AS episodes,
        sum(t.ttr_days_sum) AS ttr_days_sum,
        sum(t.ttr_counts_packed) AS counts_packed
    FROM devdiag.v_ttr_blocks AS t
    INNER JOIN blocks AS b ON t.block_days = b.block_days AND t.block_start = b.block_start
    WHERE (:'tenant' = '' OR t.tenant = :'tenant')
    GROUP BY t.problem_code
),

summed AS (
    SELECT
        0 AS overall,
        p.problem_code,
        ARRAY[p.problem_code] AS codes,
        p.episodes,
        p.ttr_days_sum,
        p.counts_packed
    FROM per_problem AS p
    UNION ALL
    SELECT
        1 AS overall,
        NULL AS problem_code,
        coalesce(array_agg(p.problem_code), '{}') AS codes,
        coalesce(sum(p.episodes), 0)::bigint AS episodes,
        sum(p.ttr_days_sum) AS ttr_days_sum,
        sum(p.counts_packed) AS counts_packed
    FROM per_problem AS p
),

groups AS MATERIALIZED (
    -- counts[k]: the k-th twelve digits of the summed packed histogram
    SELECT
        s.overall,
        s.problem_code,
        s.codes,
        s.episodes,
        s.ttr_days_sum,
        (
            SELECT array_agg(m.digits[1]::bigint ORDER BY m.k)
            FROM regexp_matches(lpad(s.counts_packed::text, 1536, '0'), '.{12}', 'g') WITH ORDINALITY AS m (digits, k)
        ) AS counts
    FROM summed AS s
),

ranks AS MATERIALIZED (
    -- percentile_cont(q): the rows at 0-based ranks floor and ceil of
    -- q * (episodes - 1), interpolated; first_bucket and last_bucket hold
    -- them, before counts the episodes in the buckets below. One pass over
    -- each histogram's running totals serves both percentiles.
    SELECT
        g.overall,
        g.codes,
        q.q,
        q.q * (g.episodes - 1) AS pos,
        floor(q.q * (g.episodes - 1))::bigint AS first_rank,
        ceil(q.q * (g.episodes - 1))::bigint AS last_rank,
        (c.first_bucket)[q.i] AS first_bucket,
        (c.last_bucket)[q.i] AS last_bucket,
        (c.before)[q.i] AS before
    FROM groups AS g
    CROSS JOIN
        LATERAL (
            SELECT
                ARRAY[
                    min(h.k - 1) FILTER (WHERE h.upto > floor(0.5::float8 * (g.episodes - 1))),
                    min(h.k - 1) FILTER (WHERE h.upto > floor(0.9::float8 * (g.episodes - 1)))
                ] AS first_bucket,
                ARRAY[
                    min(h.k - 1) FILTER (WHERE h.upto > ceil(0.5::float8 * (g.episodes - 1))),
                    min(h.k - 1) FILTER (WHERE h.upto > ceil(0.9::float8 * (g.episodes - 1)))
                ] AS last_bucket,
                ARRAY[
                    coalesce(max(h.upto) FILTER (WHERE h.upto <= floor(0.5::float8 * (g.episodes - 1))), 0),
                    coalesce(max(h.upto) FILTER (WHERE h.upto <= floor(0.9::float8 * (g.episodes - 1))), 0)
                ] AS before
            FROM (
                SELECT
                    u.k,
                    sum(u.n) OVER (ORDER BY u.k)::bigint AS upto
                FROM unnest(g.counts) WITH ORDINALITY AS u (n, k)
            ) AS h
        ) AS c
    CROSS JOIN (VALUES (1, 0.5::float8), (2, 0.9::float8)) AS q (i, q)
    WHERE g.episodes > 0
),

percentiles AS (
    SELECT
        r.overall,
        r.codes,
        r.q,
        (
            SELECT
                CASE
                    WHEN r.last_rank = r.first_rank THEN v.hours[1]
                    ELSE v.hours[1] + (v.hours[2] - v.hours[1]) * (r.pos - r.first_rank)
                END
            FROM (
                -- v_ttr_days.ttr_hours, worked out for the two rows kept
                -- instead of for every row sorted
                SELECT array_agg(round(extract(EPOCH FROM x.ttr) / 3600, 4)::float8 ORDER BY x.ttr) AS hours
                FROM (
                    SELECT t.resolved_at - t.started_at AS ttr
                    FROM devdiag.v_ttr_days AS t
                    WHERE
                        t.problem_code = any(r.codes)
                        AND devdiag.ttr_bucket(t.resolved_at - t.started_at) BETWEEN r.first_bucket AND r.last_bucket
                        AND t.resolved_at >= :'window_start'::timestamptz
                        AND t.resolved_at < :'window_end'::timestamptz
                        AND (:'tenant' = '' OR t.tenant = :'tenant')
                    ORDER BY ttr
                    LIMIT 2 OFFSET r.first_rank - r.before
                ) AS x
            ) AS v
        ) AS ttr_hours
    FROM ranks AS r
),

longest AS (
    -- max(ttr_days): ttr_days counts the UTC days between the two days, so
    -- an episode has m or more of them only if it took m - 1 days or
    -- longer; m is the most in the top bucket, and the buckets from m - 1
    -- days up hold every episode with as many
    SELECT
        g.overall,
        g.codes,
        (
            SELECT max(t.ttr_days)
            FROM devdiag.v_ttr_days AS t
            WHERE
                t.problem_code = any(g.codes)
                AND devdiag.ttr_bucket(t.resolved_at - t.started_at) BETWEEN devdiag.ttr_bucket(
                    make_interval(days => -1 + (
                        SELECT max(m.ttr_days)
                        FROM devdiag.v_ttr_days AS m
                        WHERE
                            m.problem_code = any(g.codes)
                            AND devdiag.ttr_bucket(m.resolved_at - m.started_at) = g.top_bucket
                            AND m.resolved_at >= :'window_start'::timestamptz
                            AND m.resolved_at < :'window_end'::timestamptz
                            AND (:'tenant' = '' OR m.tenant = :'tenant')
                    ))
                ) AND g.top_bucket
                AND t.resolved_at >= :'window_start'::timestamptz
                AND t.resolved_at < :'window_end'::timestamptz
                AND (:'tenant' = '' OR t.tenant = :'tenant')
        ) AS max_ttr_days
    FROM (
        SELECT
            g.overall,
            g.codes,
            (
                SELECT max(u.k - 1) FROM unnest(g.counts) WITH ORDINALITY AS u (n, k)
                WHERE u.n > 0
            ) AS top_bucket
        FROM groups AS g
        WHERE g.episodes > 0
    ) AS g
)

SELECT
    coalesce(g.problem_code, '(all problems)') AS problem_code,
    g.episodes,
    round(g.ttr_days_sum::numeric / nullif(g.episodes, 0), 2) AS avg_ttr_days,
    l.max_ttr_days,
    round((
        SELECT p.ttr_hours FROM percentiles AS p
        WHERE p.overall = g.overall AND p.codes = g.codes AND p.q = 0.5
    )::numeric, 2)
        AS median_ttr_hours,
    round((
        SELECT p.ttr_hours FROM percentiles AS p
        WHERE p.overall = g.overall AND p.codes = g.codes AND p.q = 0.9
    )::numeric, 2)
        AS p90_ttr_hours
FROM groups AS g
LEFT JOIN longest AS l ON g.overall = l.overall AND g.codes = l.codes
ORDER BY g.overall ASC, g.episodes DESC, problem_code ASC;
