-- For pairs whose support, confidence or notes changed since the source's last
-- sync: remember the new state, add the growth (never the whole total) to
-- fix_outcome, and move its ts to when the pair was last credited.
WITH changed AS (
    SELECT
        p.*,
        o.support AS old_support,
        o.last_credited_at AS old_credited_at,
        CASE
            WHEN o.id IS NULL THEN to_timestamp(p.first_ts)
            WHEN p.support > o.support THEN %(seen_at)s
            ELSE o.last_credited_at
        END AS credited_at
    FROM pg_temp.sync_stage_pair AS p
    -- The stored state of pair p, in two branches: an index lookup cannot take
    -- "env_fp IS NOT DISTINCT FROM", and as one condition the probe would read
    -- every environment of the (tenant, problem, fix).
    LEFT JOIN LATERAL (
        SELECT
            s.id,
            s.support,
            s.confidence,
            s.notes,
            s.last_credited_at
        FROM devdiag.fix_outcome_source AS s
        WHERE
            s.tenant = p.tenant AND s.source_id = %(source)s AND s.problem_code = p.problem_code
            AND s.fix_code = p.fix_code AND s.env_fp = p.env_fp
        UNION ALL
        SELECT
            s.id,
            s.support,
            s.confidence,
            s.notes,
            s.last_credited_at
        FROM devdiag.fix_outcome_source AS s
        WHERE
            p.env_fp IS NULL AND s.tenant = p.tenant AND s.source_id = %(source)s
            AND s.problem_code = p.problem_code AND s.fix_code = p.fix_code AND s.env_fp IS NULL
    ) AS o ON TRUE
    WHERE
        p.pair_no BETWEEN %(lo)s AND %(hi)s
        AND (
            o.id IS NULL OR o.support <> p.support OR o.confidence <> p.confidence
            OR o.notes IS DISTINCT FROM p.notes
        )
),

state AS (
    INSERT INTO devdiag.fix_outcome_source AS o
    (
        tenant, source_id, problem_code, fix_code, env_fp, support, confidence, notes, sqlite_id,
        first_credited_at, last_credited_at
    )
    SELECT
        c.tenant,
        %(source)s AS source_id,
        c.problem_code,
        c.fix_code,
        c.env_fp,
        c.support,
        c.confidence,
        c.notes,
        c.sqlite_id,
        to_timestamp(c.first_ts) AS first_credited_at,
        c.credited_at
    FROM changed AS c
    ON CONFLICT ON CONSTRAINT fix_outcome_source_pair_unique DO UPDATE
        SET
            support = excluded.support, confidence = excluded.confidence, notes = excluded.notes,
            sqlite_id = excluded.sqlite_id, last_credited_at = excluded.last_credited_at, synced_at = now()
    RETURNING 1
),

grown AS (
    INSERT INTO devdiag.fix_outcome AS f (ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes)
    SELECT
        c.credited_at,
        c.tenant,
        c.problem_code,
        c.fix_code,
        c.confidence,
        c.support - coalesce(c.old_support, 0) AS support,
        c.env_fp,
        c.notes
    FROM changed AS c
    WHERE c.support >= coalesce(c.old_support, 0)
    ON CONFLICT ON CONSTRAINT fix_outcome_pair_unique DO UPDATE
        SET
            support = f.support + excluded.support,
            confidence = excluded.confidence,
            ts = CASE WHEN excluded.support > 0 THEN greatest(f.ts, excluded.ts) ELSE f.ts END,
            notes = coalesce(excluded.notes, f.notes)
    RETURNING 1
),

shrunk AS (
    UPDATE devdiag.fix_outcome AS f
    SET support = greatest(0, f.support + (c.support - c.old_support)), confidence = c.confidence
    FROM changed AS c
    WHERE
        c.support < c.old_support
        AND f.tenant = c.tenant AND f.problem_code = c.problem_code AND f.fix_code = c.fix_code
        AND f.env_fp IS NOT DISTINCT FROM c.env_fp
    RETURNING 1
)

SELECT
    (SELECT count(*) FROM state) AS pairs_stored,
    (SELECT count(*) FROM grown) AS outcomes_grown,
    (SELECT count(*) FROM shrunk) AS outcomes_shrunk;
