-- Fold the runs and fix outcomes written so far into the rollups, waiting at
-- most lock_wait_s seconds for writers still in flight.
CALL devdiag.refresh_rollups(p_lock_wait => make_interval(secs => %(lock_wait_s)s));
