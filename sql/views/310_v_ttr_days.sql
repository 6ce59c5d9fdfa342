-- Why: the time-to-remediation dashboard is a histogram of resolved episodes.
-- Read from rollup_ttr_episode, whose stored ttr_days (same formula) lets a
-- histogram by tenant and problem be an index-only scan; v_ref_ttr_days is
-- the raw form.
CREATE OR REPLACE VIEW devdiag.v_ttr_days
WITH (security_invoker = TRUE)
AS
SELECT
    e.tenant,
    e.problem_code,
    e.target_hash,
    devdiag.utc_day(e.started_at) AS first_seen_day,
    devdiag.utc_day(e.resolved_at) AS first_zero_day,
    e.ttr_days,
    round(extract(EPOCH FROM e.resolved_at - e.started_at) / 3600, 4) AS ttr_hours,
    e.started_at,
    e.resolved_at,
    e.preset,
    extract(EPOCH FROM e.resolved_at - e.started_at) AS ttr_seconds
FROM devdiag_rollup.rollup_ttr_episode AS e
WHERE e.resolved_at IS NOT NULL;

COMMENT ON VIEW devdiag.v_ttr_days IS
'Resolved remediation episodes: from the run that first reported a problem to the first later run of the same preset (or full) without it.';
COMMENT ON COLUMN devdiag.v_ttr_days.ttr_days IS 'Whole UTC days between first_seen_day and first_zero_day.';
COMMENT ON COLUMN devdiag.v_ttr_days.ttr_hours IS 'Elapsed hours between started_at and resolved_at, rounded to 4 decimals (0.36 s); ttr_seconds is exact.';
COMMENT ON COLUMN devdiag.v_ttr_days.ttr_seconds IS 'Exact elapsed seconds between started_at and resolved_at.';
