SELECT count(*)
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
WHERE o.id IS NULL OR o.support <> p.support OR o.confidence <> p.confidence OR o.notes IS DISTINCT FROM p.notes;
