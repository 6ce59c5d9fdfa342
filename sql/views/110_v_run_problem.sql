-- Why: one row per run and distinct problem code is the grain of every
-- problem-level metric (a run listing a code twice counts once).
CREATE OR REPLACE VIEW devdiag.v_run_problem
WITH (security_invoker = TRUE)
AS
SELECT
    r.id AS run_id,
    r.tenant,
    r.target_hash,
    r.env_fp,
    r.preset,
    r.ts,
    devdiag.utc_day(r.ts) AS day,
    p.problem_code
FROM devdiag.v_run_all AS r
CROSS JOIN LATERAL (
    SELECT DISTINCT e.code AS problem_code
    FROM jsonb_array_elements_text(r.problems) AS e (code)
) AS p;

COMMENT ON VIEW devdiag.v_run_problem IS
'Bridge: one row per run and distinct problem code it reported (UTC day in day).';
