-- Why: the recurrence analysis (sql/queries/350) counts, per problem, the
-- episodes begun in a window, the recurrences among them and the distinct
-- targets they began on. The distinct targets do not add up across days;
-- counted by how many days before each episode its target's previous episode
-- of the problem began, they do: an episode is its target's first in a window
-- starting on day w exactly when that previous one began before w. A window
-- of up to 92 days reads one row per tenant, problem and day.
CREATE OR REPLACE VIEW devdiag.v_recurrence_days
WITH (security_invoker = TRUE)
AS
SELECT
    r.tenant,
    r.problem_code,
    r.start_day AS first_seen_day,
    r.episodes,
    r.recurrences,
    r.since_previous
FROM devdiag_rollup.rollup_recurrence_day AS r;

COMMENT ON VIEW devdiag.v_recurrence_days IS
'Remediation episodes (the rows of v_problem_episodes) counted per tenant, problem and first_seen_day, '
'with how long after their previous episode of the problem on the same target they began.';
COMMENT ON COLUMN devdiag.v_recurrence_days.episodes IS 'Episodes that began this UTC day.';
COMMENT ON COLUMN devdiag.v_recurrence_days.recurrences IS
'Of those, the ones with episode_no > 1 (the problem came back on its target).';
COMMENT ON COLUMN devdiag.v_recurrence_days.since_previous IS
'Element k (1 to 92): of those episodes, the ones whose previous episode of the problem on the same target began '
'k or more UTC days before first_seen_day, or that have none. For a window of at most 92 days from day w, '
'since_previous[first_seen_day - w + 1] counts the episodes that are their target''s first in the window.';
