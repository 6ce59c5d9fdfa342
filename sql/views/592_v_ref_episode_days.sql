-- Why: the raw-data form of v_episode_days (episodes of v_ref_problem_episodes
-- counted per day pair): tests/rollups compares the two after every kind of
-- change and make bench times both. Same columns, same rows.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_episode_days
WITH (security_invoker = TRUE)
AS
SELECT
    e.tenant,
    e.problem_code,
    e.first_seen_day,
    e.first_zero_day,
    e.is_open,
    e.ttr_days,
    count(*)::bigint AS episodes,
    count(*) FILTER (WHERE e.episode_no > 1)::bigint AS recurrences
FROM devdiag_ref.v_ref_problem_episodes AS e
GROUP BY e.tenant, e.problem_code, e.first_seen_day, e.first_zero_day, e.is_open, e.ttr_days;

COMMENT ON VIEW devdiag_ref.v_ref_episode_days IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Remediation episodes (the rows of v_problem_episodes) counted per tenant, problem, first_seen_day and first_zero_day.';
