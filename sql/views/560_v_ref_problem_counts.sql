-- Why: the raw-data definition of devdiag.v_problem_counts, kept runnable under this
-- name after v_problem_counts moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_problem_counts
WITH (security_invoker = TRUE)
AS
SELECT
    rp.day,
    rp.tenant,
    rp.problem_code,
    count(*)::bigint AS runs
FROM devdiag.v_run_problem AS rp
GROUP BY rp.day, rp.tenant, rp.problem_code;

COMMENT ON VIEW devdiag_ref.v_ref_problem_counts IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Runs per UTC day, tenant and problem code that reported the problem (each run counted once per code).';
COMMENT ON COLUMN devdiag_ref.v_ref_problem_counts.day IS 'UTC calendar day of the runs.';
COMMENT ON COLUMN devdiag_ref.v_ref_problem_counts.runs IS 'Number of runs that reported the problem that day.';
