-- Why: the raw-data definition of devdiag.v_ttr_days, kept runnable under this
-- name after v_ttr_days moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_ttr_days
WITH (security_invoker = TRUE)
AS
SELECT
    e.tenant,
    e.problem_code,
    e.target_hash,
    devdiag.utc_day(e.started_at) AS first_seen_day,
    devdiag.utc_day(e.resolved_at) AS first_zero_day,
    (devdiag.utc_day(e.resolved_at) - devdiag.utc_day(e.started_at))::integer AS ttr_days,
    round(extract(EPOCH FROM e.resolved_at - e.started_at) / 3600, 4) AS ttr_hours,
    e.started_at,
    e.resolved_at,
    e.preset,
    extract(EPOCH FROM e.resolved_at - e.started_at) AS ttr_seconds
FROM devdiag_ref.v_ref_ttr_episodes AS e
WHERE e.resolved_at IS NOT NULL;

COMMENT ON VIEW devdiag_ref.v_ref_ttr_days IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Resolved remediation episodes: from the run that first reported a problem to the first later run of the same preset (or full) without it.';
COMMENT ON COLUMN devdiag_ref.v_ref_ttr_days.ttr_days IS 'Whole UTC days between first_seen_day and first_zero_day.';
COMMENT ON COLUMN devdiag_ref.v_ref_ttr_days.ttr_hours IS
'Elapsed hours between started_at and resolved_at, rounded to 4 decimals (0.36 s); ttr_seconds is exact.';
COMMENT ON COLUMN devdiag_ref.v_ref_ttr_days.ttr_seconds IS 'Exact elapsed seconds between started_at and resolved_at.';
