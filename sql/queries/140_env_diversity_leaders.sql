-- Answers: which problems show up in the most distinct environments (systemic rather than local)?
-- Source: original guide, "Quick Validation Queries" / Environment Diversity Leaders.
SELECT
    problem_code,
    unique_environments,
    total_runs
FROM devdiag.v_env_diversity
ORDER BY unique_environments DESC
LIMIT 10;
