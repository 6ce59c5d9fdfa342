-- Why: operators look at what live runs reported in the last week.
CREATE OR REPLACE VIEW devdiag.v_recent_activity
WITH (security_invoker = TRUE)
AS
SELECT
    d.tenant,
    d.target_hash,
    d.ts,
    p.problem_count,
    p.problems,
    d.preset,
    d.env_fp,
    d.id AS run_id
FROM devdiag.diag_run AS d
CROSS JOIN
    LATERAL (
        SELECT
            count(DISTINCT e.code)::integer AS problem_count,
            -- sorted bytewise whatever the server's locale; the column keeps the
            -- default collation (noqa: sqlfluff reads a collation as a column)
            coalesce(string_agg(DISTINCT e.code COLLATE "C", ', ' ORDER BY e.code COLLATE "C"), '')  -- noqa: RF03
            COLLATE "default" AS problems  -- noqa: RF03
        FROM jsonb_array_elements_text(d.problems) AS e (code)
    ) AS p
-- 168 hours, not '7 days': interval days follow the session's wall clock, so
-- across a DST change '7 days' would be 167 or 169 hours. The floor, computed
-- when the query is planned, lets the planner plan only the days from it on
-- (devdiag.run_window_floor); the window itself is the filter on now().
WHERE
    d.ts > now() - interval '168 hours'
    AND d.ts >= devdiag.run_window_floor(interval '168 hours');

COMMENT ON VIEW devdiag.v_recent_activity IS
'Live runs (not archived) of the 168 hours before now(); problem_count and problems (text, sorted, comma-separated) count each code once.';
