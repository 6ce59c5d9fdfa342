-- Why: the row limit checks call these functions as the inserting role, the
-- sync reads the limits from devdiag.row_limit, and the planner evaluates the
-- checks of the run tables (to skip a branch of v_run_all) as the querying
-- role; they only compute from their arguments.
GRANT EXECUTE ON FUNCTION devdiag.row_limit(text), devdiag.longest_problem_code(jsonb)
TO devdiag_writer, devdiag_reader, devdiag_analyst;
