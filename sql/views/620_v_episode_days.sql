-- Why: window analyses (sql/queries/330 and 340) count episodes open at a
-- day's end or resolved within days; counted per first-seen and first-zero
-- day they read a few thousand rows instead of every episode. The counts add
-- up across rows: sum episodes over any set of days.
CREATE OR REPLACE VIEW devdiag.v_episode_days
WITH (security_invoker = TRUE)
AS
SELECT
    d.tenant,
    d.problem_code,
    d.start_day AS first_seen_day,
    -- the expression of rollup_episode_day_end_covering_idx, so filters on it use the index
    nullif(d.end_day, 'infinity'::date) AS first_zero_day,
    d.end_day = 'infinity'::date AS is_open,
    (nullif(d.end_day, 'infinity'::date) - d.start_day)::integer AS ttr_days,
    d.episodes,
    d.recurrences
FROM devdiag_rollup.rollup_episode_day AS d;

COMMENT ON VIEW devdiag.v_episode_days IS
'Remediation episodes (the rows of v_problem_episodes) counted per tenant, problem, first_seen_day and first_zero_day.';
COMMENT ON COLUMN devdiag.v_episode_days.first_zero_day IS 'UTC day the episodes ended; NULL for the ones still open.';
COMMENT ON COLUMN devdiag.v_episode_days.ttr_days IS 'first_zero_day - first_seen_day, the ttr_days of each of these episodes; NULL while open.';
COMMENT ON COLUMN devdiag.v_episode_days.episodes IS 'Episodes with these days.';
COMMENT ON COLUMN devdiag.v_episode_days.recurrences IS 'Of those, the ones with episode_no > 1 (the problem came back on its target).';
