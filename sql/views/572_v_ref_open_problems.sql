-- Why: the raw-data definition of devdiag.v_open_problems, kept runnable under this
-- name after v_open_problems moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_open_problems
WITH (security_invoker = TRUE)
AS
SELECT
    e.tenant,
    e.target_hash,
    e.problem_code,
    e.started_at,
    e.last_seen,
    (devdiag.utc_day(now()) - devdiag.utc_day(e.started_at))::integer AS age_days,
    e.preset
FROM devdiag_ref.v_ref_ttr_episodes AS e
WHERE e.resolved_at IS NULL;

COMMENT ON VIEW devdiag_ref.v_ref_open_problems IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Episodes not yet ended: the problem was reported and no later run of the same preset (or full) cleared it.';
COMMENT ON COLUMN devdiag_ref.v_ref_open_problems.age_days IS 'Whole UTC days since the episode started.';
