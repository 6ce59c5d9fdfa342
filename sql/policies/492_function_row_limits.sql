-- Why: the row limit checks call these functions as the inserting role, and
-- the sync reads the limits from devdiag.row_limit.
GRANT EXECUTE ON FUNCTION devdiag.row_limit(text), devdiag.longest_problem_code(jsonb) TO devdiag_writer;
