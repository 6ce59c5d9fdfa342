-- Why: v_recent_activity, which readers and analysts query, calls it as the
-- caller (it reads no table).
GRANT EXECUTE ON FUNCTION devdiag.run_window_floor(interval) TO devdiag_reader, devdiag_analyst;
