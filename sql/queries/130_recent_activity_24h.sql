-- Answers: what did the last 20 runs of the past 24 hours report?
-- Source: original guide, "Quick Validation Queries" / Recent Activity (Last 24h).
SELECT
    tenant,
    ts,
    jsonb_array_length(problems) AS problem_count,
    problems
FROM devdiag.diag_run
WHERE ts > now() - interval '24 hours'
ORDER BY ts DESC
LIMIT 20;
