-- Answers (alert): which tenants had more than 100 problem reports today? Rows only when it fires.
-- Source: original guide, "Alert Examples" / High Problem Rate.
SELECT
    tenant,
    sum(runs) AS daily_problems
FROM devdiag.v_problem_counts
WHERE day = current_date
GROUP BY 1
HAVING sum(runs) > 100;
