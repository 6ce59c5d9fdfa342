-- Why: the raw-data definition of devdiag.v_recurrence_days: the episodes
-- replayed from the raw runs, each with the days since its target's previous
-- episode of the problem, counted per day and gap. tests/rollups compares the
-- two after every kind of change and make bench times both.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_recurrence_days
WITH (security_invoker = TRUE)
AS
WITH e AS (
    SELECT
        p.tenant,
        p.problem_code,
        p.first_seen_day,
        p.episode_no,
        coalesce(
            least(92, p.first_seen_day - devdiag.utc_day(lag(p.started_at) OVER (
                PARTITION BY p.tenant, p.target_hash, p.problem_code ORDER BY p.episode_no
            ))),
            92
        ) AS gap
    FROM devdiag_ref.v_ref_problem_episodes AS p
),

d AS (
    SELECT
        e.tenant,
        e.problem_code,
        e.first_seen_day,
        count(*)::bigint AS episodes,
        count(*) FILTER (WHERE e.episode_no > 1)::bigint AS recurrences,
        array_agg(e.gap) AS gaps
    FROM e
    GROUP BY e.tenant, e.problem_code, e.first_seen_day
)

SELECT
    d.tenant,
    d.problem_code,
    d.first_seen_day,
    d.episodes,
    d.recurrences,
    array(
        SELECT (
            SELECT count(*) FROM unnest(d.gaps) AS g (gap)
            WHERE g.gap >= k.k
        )::integer
        FROM generate_series(1, 92) AS k (k)
        ORDER BY k.k
    ) AS since_previous
FROM d;

COMMENT ON VIEW devdiag_ref.v_ref_recurrence_days IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Remediation episodes (the rows of v_problem_episodes) counted per tenant, problem and first_seen_day, '
'with how long after their previous episode of the problem on the same target they began.';
