-- Why: whoever writes runs may fold them into the rollups at once (the sync
-- does before it exits); the fold runs as the owner and only ever makes the
-- rollups equal to the runs, so calling it more often changes nothing else.
GRANT EXECUTE ON PROCEDURE devdiag.refresh_rollups(text, interval, bigint, bigint, text[]) TO devdiag_writer;
