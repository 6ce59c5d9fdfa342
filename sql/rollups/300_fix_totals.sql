-- Why: a fix group (tenant, problem, fix) has at most one row per environment,
-- and its latest credit cannot be decremented, so each group a statement
-- touched is recomputed from fix_outcome (the pair's unique index finds its
-- rows) rather than patched: sums stay those of the rows, never drift.
CREATE OR REPLACE FUNCTION devdiag.rollup_recompute_fix_totals(
    p_tenant text[],
    p_problem text[],
    p_fix text[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF p_tenant IS NULL THEN
        RETURN;
    END IF;
    -- Same serialisation as the episodes: read only after earlier writers of the tenant committed.
    PERFORM devdiag.take_lock(7236111, l.k)
    FROM (SELECT DISTINCT hashtext(t.tenant) AS k FROM unnest(p_tenant) AS t (tenant) ORDER BY 1) AS l;

    WITH g AS (
        SELECT DISTINCT u.tenant, u.problem_code, u.fix_code
        FROM unnest(p_tenant, p_problem, p_fix) AS u (tenant, problem_code, fix_code)
    ),
    agg AS (
        SELECT
            g.tenant, g.problem_code, g.fix_code, s.successes, s.confidence_sum, s.environments, s.last_success,
            s.weight_sum, s.weighted_confidence_sum
        FROM g
        CROSS JOIN LATERAL (
            SELECT
                sum(f.support)::bigint AS successes,
                sum(f.confidence) AS confidence_sum,
                count(*) AS environments,
                max(f.ts) AS last_success,
                sum(greatest(f.support, 1))::bigint AS weight_sum,
                sum(f.confidence * greatest(f.support, 1)) AS weighted_confidence_sum
            FROM devdiag.fix_outcome AS f
            WHERE f.tenant = g.tenant AND f.problem_code = g.problem_code AND f.fix_code = g.fix_code
        ) AS s
    ),
    gone AS (
        DELETE FROM devdiag_rollup.rollup_fix_total AS r
        USING agg AS a
        WHERE a.environments = 0
            AND r.tenant = a.tenant AND r.problem_code = a.problem_code AND r.fix_code = a.fix_code
    )
    INSERT INTO devdiag_rollup.rollup_fix_total AS r (
        tenant, problem_code, fix_code, successes, confidence_sum, environments, last_success,
        weight_sum, weighted_confidence_sum
    )
    SELECT
        a.tenant, a.problem_code, a.fix_code, a.successes, a.confidence_sum, a.environments, a.last_success,
        a.weight_sum, a.weighted_confidence_sum
    FROM agg AS a
    WHERE a.environments > 0
    ORDER BY 1, 2, 3
    ON CONFLICT (tenant, problem_code, fix_code) DO UPDATE
    SET successes = excluded.successes,
        confidence_sum = excluded.confidence_sum,
        environments = excluded.environments,
        last_success = excluded.last_success,
        weight_sum = excluded.weight_sum,
        weighted_confidence_sum = excluded.weighted_confidence_sum;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_recompute_fix_totals(text[], text[], text[]) IS
'Recomputes rollup_fix_total for the given (tenant, problem, fix) groups from fix_outcome; the fold of fix_totals.';

-- Why: a fix group (tenant, problem, fix) is recomputed from fix_outcome
-- whenever one of its rows was written, so upserts that overwrite confidence
-- or move ts stay exact: devdiag.rollup_recompute_fix_totals (above) is the
-- fold. (An earlier forward-only wrapper of it goes.)
DROP FUNCTION IF EXISTS devdiag.fold_fix_totals(text[], text[], text[]);

SELECT devdiag.rollup_register(
    'fix_totals', 300, 'fix_outcome', 'devdiag.rollup_recompute_fix_totals', 'rollup_fix_total'
);
