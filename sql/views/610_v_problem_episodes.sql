-- Why: analysts need every remediation episode, open or resolved, with its
-- ordinal per target and problem, to measure recurrence (a problem that came
-- back after a fix) and what was open at the end of a date window;
-- v_ttr_days holds resolved episodes only and v_ttr_episodes is internal.
-- Read from rollup_ttr_episode; v_ref_problem_episodes is the same over raw runs.
CREATE OR REPLACE VIEW devdiag.v_problem_episodes
WITH (security_invoker = TRUE)
AS
SELECT
    e.tenant,
    e.target_hash,
    e.problem_code,
    e.preset,
    e.started_at,
    e.last_seen,
    e.resolved_at,
    devdiag.utc_day(e.started_at) AS first_seen_day,
    devdiag.utc_day(e.resolved_at) AS first_zero_day,
    e.resolved_at IS NULL AS is_open,
    -- the row_number() over (tenant, target, problem) by (started_at, start_run_id),
    -- kept by the episode replay
    e.episode_no,
    (devdiag.utc_day(e.resolved_at) - devdiag.utc_day(e.started_at))::integer AS ttr_days,
    round((extract(EPOCH FROM e.resolved_at - e.started_at) / 3600)::numeric, 4) AS ttr_hours
FROM devdiag_rollup.rollup_ttr_episode AS e;

COMMENT ON VIEW devdiag.v_problem_episodes IS
'Every remediation episode, open and resolved (same episodes as v_ttr_days and v_open_problems); episode_no > 1 means the problem came back on that target.';
COMMENT ON COLUMN devdiag.v_problem_episodes.is_open IS 'True while no later run of the same preset (or full) has cleared the problem.';
COMMENT ON COLUMN devdiag.v_problem_episodes.episode_no IS
'1 for the first episode of this problem on this target, 2 for its first recurrence, and so on.';
COMMENT ON COLUMN devdiag.v_problem_episodes.ttr_days IS 'Whole UTC days from first_seen_day to first_zero_day; NULL while open.';
COMMENT ON COLUMN devdiag.v_problem_episodes.ttr_hours IS
'Elapsed hours from started_at to resolved_at, rounded to 4 decimals (as in v_ttr_days); NULL while open.';
