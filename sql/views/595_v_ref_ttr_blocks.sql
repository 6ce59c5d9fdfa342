-- Why: the raw-data definition of devdiag.v_ttr_blocks: the resolved episodes
-- replayed from the raw runs, each counted in its block of every length.
-- tests/rollups compares the two after every kind of change and make bench
-- times both.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_ttr_blocks
WITH (security_invoker = TRUE)
AS
WITH e AS (
    SELECT
        t.tenant,
        t.problem_code,
        l.days AS block_days,
        t.first_zero_day - (((t.first_zero_day - date '1970-01-01') % l.days + l.days) % l.days) AS block_start,
        t.ttr_days,
        devdiag.ttr_bucket(t.resolved_at - t.started_at) AS bucket
    FROM devdiag_ref.v_ref_ttr_days AS t
    CROSS JOIN unnest(ARRAY[1, 2, 4, 8, 16, 32, 64]) AS l (days)
),

b AS (
    SELECT
        e.tenant,
        e.problem_code,
        e.block_days,
        e.block_start,
        count(*)::bigint AS episodes,
        sum(e.ttr_days)::bigint AS ttr_days_sum,
        array_agg(e.bucket) AS buckets
    FROM e
    GROUP BY e.tenant, e.problem_code, e.block_days, e.block_start
),

c AS (
    SELECT
        b.tenant,
        b.problem_code,
        b.block_days,
        b.block_start,
        b.episodes,
        b.ttr_days_sum,
        array(
            SELECT (
                SELECT count(*) FROM unnest(b.buckets) AS x (bucket)
                WHERE x.bucket = k.k
            )::integer
            FROM generate_series(0, 127) AS k (k)
            ORDER BY k.k
        ) AS ttr_counts
    FROM b
)

SELECT
    c.*,
    -- (the packed form, element by element: twelve digits each, element 1 first)
    (
        SELECT string_agg(lpad(u.n::text, 12, '0'), '' ORDER BY u.k)
        FROM unnest(c.ttr_counts) WITH ORDINALITY AS u (n, k)
    )::numeric AS ttr_counts_packed
FROM c;

COMMENT ON VIEW devdiag_ref.v_ref_ttr_blocks IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Resolved remediation episodes (the rows of v_ttr_days) per tenant, problem and block of first_zero_day, '
'counted by time to resolve: every episode counts once in a block of each length.';
