-- Why: the problem overview dashboard plots runs per UTC day and problem.
-- Read from rollup_problem_day, which each refresh keeps equal to the count
-- over the raw runs (v_ref_problem_counts) as of that refresh.
CREATE OR REPLACE VIEW devdiag.v_problem_counts
WITH (security_invoker = TRUE)
AS
SELECT
    p.day,
    p.tenant,
    p.problem_code,
    p.runs
FROM devdiag_rollup.rollup_problem_day AS p;

COMMENT ON VIEW devdiag.v_problem_counts IS
'Runs per UTC day, tenant and problem code that reported the problem (each run counted once per code).';
COMMENT ON COLUMN devdiag.v_problem_counts.day IS 'UTC calendar day of the runs.';
COMMENT ON COLUMN devdiag.v_problem_counts.runs IS 'Number of runs that reported the problem that day.';
