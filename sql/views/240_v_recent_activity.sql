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
            coalesce(string_agg(DISTINCT e.code, ', ' ORDER BY e.code), '') AS problems
        FROM jsonb_array_elements_text(d.problems) AS e (code)
    ) AS p
WHERE d.ts > now() - interval '7 days';

COMMENT ON VIEW devdiag.v_recent_activity IS
'Live runs of the last 7 days; problems is a comma-separated list of distinct codes (text, for Tableau).';
