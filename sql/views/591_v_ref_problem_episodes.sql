-- Why: the raw-data definition of devdiag.v_problem_episodes, kept runnable under this
-- name after v_problem_episodes moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_problem_episodes
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
    row_number() OVER (
        PARTITION BY e.tenant, e.target_hash, e.problem_code
        ORDER BY e.started_at, e.start_run_id
    )::integer AS episode_no,
    (devdiag.utc_day(e.resolved_at) - devdiag.utc_day(e.started_at))::integer AS ttr_days,
    round((extract(EPOCH FROM e.resolved_at - e.started_at) / 3600)::numeric, 4) AS ttr_hours
FROM devdiag_ref.v_ref_ttr_episodes AS e;

COMMENT ON VIEW devdiag_ref.v_ref_problem_episodes IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Every remediation episode, open and resolved (same episodes as v_ttr_days and v_open_problems); episode_no > 1 means the problem came back on that target.';
COMMENT ON COLUMN devdiag_ref.v_ref_problem_episodes.is_open IS 'True while no later run of the same preset (or full) has cleared the problem.';
COMMENT ON COLUMN devdiag_ref.v_ref_problem_episodes.episode_no IS
'1 for the first episode of this problem on this target, 2 for its first recurrence, and so on.';
COMMENT ON COLUMN devdiag_ref.v_ref_problem_episodes.ttr_days IS 'Whole UTC days from first_seen_day to first_zero_day; NULL while open.';
COMMENT ON COLUMN devdiag_ref.v_ref_problem_episodes.ttr_hours IS 'Exact elapsed hours from started_at to resolved_at; NULL while open.';
