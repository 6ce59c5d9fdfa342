-- Why: v_ttr_episodes and the views on it call it; it is SECURITY INVOKER, so
-- it reads the caller's rows only.
GRANT EXECUTE ON FUNCTION devdiag.ttr_episodes() TO devdiag_reader, devdiag_analyst;
