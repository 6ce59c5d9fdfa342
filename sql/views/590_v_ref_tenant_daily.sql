-- Why: the raw-data definition of devdiag.v_tenant_daily, kept runnable under this
-- name after v_tenant_daily moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag.v_ref_tenant_daily
WITH (security_invoker = TRUE)
AS
SELECT
    devdiag.utc_day(r.ts) AS day,
    r.tenant,
    count(*)::bigint AS runs,
    count(*) FILTER (WHERE jsonb_array_length(r.problems) > 0)::bigint AS problem_runs,
    count(DISTINCT r.target_hash)::bigint AS targets
FROM devdiag.v_run_all AS r
GROUP BY devdiag.utc_day(r.ts), r.tenant;

COMMENT ON VIEW devdiag.v_ref_tenant_daily IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Runs per UTC day and tenant, live and archived: all runs, runs that reported at least one problem, distinct targets.';
COMMENT ON COLUMN devdiag.v_ref_tenant_daily.day IS 'UTC calendar day of the runs.';
COMMENT ON COLUMN devdiag.v_ref_tenant_daily.runs IS 'All runs that day, with or without problems.';
COMMENT ON COLUMN devdiag.v_ref_tenant_daily.problem_runs IS
'Runs that reported at least one problem: the denominator of the fix success rate (as in v_tenant_health).';
COMMENT ON COLUMN devdiag.v_ref_tenant_daily.targets IS 'Distinct targets probed that day.';
