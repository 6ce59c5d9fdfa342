-- Runs per UTC day, tenant and problem code that reported the problem. Unlike
-- a plain count of array elements, a run listing a code twice counts once (DISTINCT per
-- run), as devdiag.v_problem_counts does.
WITH run_problems AS (
    SELECT DISTINCT
        r.tenant,
        r.run_id,
        r.archived,
        r.day,
        p.problem_code
    FROM {{ ref('stg_diag_run') }} AS r
    CROSS JOIN LATERAL jsonb_array_elements_text(r.problems) AS p (problem_code)
)

SELECT
    day,
    tenant,
    problem_code,
    count(*)::bigint AS runs
FROM run_problems
GROUP BY day, tenant, problem_code
