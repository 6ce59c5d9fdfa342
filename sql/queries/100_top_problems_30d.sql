-- Answers: which problems were reported by the most runs in the last 30 days (all tenants you may read)?
-- Source: original guide, "Quick Validation Queries" / Top 10 Problems.
-- Kept exactly as the guide wrote it (hence the noqa markers).
SELECT
    problem_code,
    sum(runs) AS cnt
FROM devdiag.v_problem_counts
WHERE day >= now() - interval '30 days'
GROUP BY 1  -- noqa: AM06
ORDER BY cnt DESC  -- noqa: AM06
LIMIT 10;
