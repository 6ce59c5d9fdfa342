-- Answers: how many remediation episodes took 0, 1, 2 ... whole days to resolve?
-- Source: original guide, "Quick Validation Queries" / TTR Distribution.
SELECT
    ttr_days,
    count(*) AS frequency
FROM devdiag.v_ttr_days
GROUP BY 1
ORDER BY 1;
