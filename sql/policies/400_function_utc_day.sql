-- Why: the views that readers and analysts query call it as the caller.
GRANT EXECUTE ON FUNCTION devdiag.utc_day(timestamptz) TO devdiag_reader, devdiag_analyst;
