-- Why: what is broken right now, and for how long.
-- Read from rollup_ttr_episode (partial index on open episodes); v_ref_open_problems is the raw form.
CREATE OR REPLACE VIEW devdiag.v_open_problems
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
FROM devdiag_rollup.rollup_ttr_episode AS e
WHERE e.resolved_at IS NULL;

COMMENT ON VIEW devdiag.v_open_problems IS
'Episodes not yet ended: the problem was reported and no later run of the same preset (or full) cleared it.';
COMMENT ON COLUMN devdiag.v_open_problems.age_days IS 'Whole UTC days since the episode started.';
