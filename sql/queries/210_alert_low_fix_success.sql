-- Answers (alert): which well-supported fixes have a mean confidence below 50%? Rows only when it fires.
-- Source: original guide, "Alert Examples" / Low Fix Success Rate.
SELECT
    problem_code,
    fix_code,
    avg_confidence
FROM devdiag.v_fix_success
WHERE avg_confidence < 0.5 AND successes > 10;
