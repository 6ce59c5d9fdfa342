-- Answers: which fixes have cleared their problem most often, and how confident is the learner?
-- Source: original guide, "Quick Validation Queries" / Best Fixes by Success Count.
-- Kept exactly as the guide wrote it (hence the noqa markers).
SELECT
    problem_code,
    fix_code,
    successes,
    round(avg_confidence::numeric, 3)  -- noqa: AL03
FROM devdiag.v_fix_success
ORDER BY successes DESC
LIMIT 15;
