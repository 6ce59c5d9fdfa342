-- Why: tenant health over any date window needs runs per UTC day (runs of
-- every kind, not only those that reported a problem), which no contract
-- view carries; Tableau filters this by day instead of a fixed 7 days.
CREATE OR REPLACE VIEW devdiag.v_tenant_daily
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

COMMENT ON VIEW devdiag.v_tenant_daily IS
'Runs per UTC day and tenant, live and archived: all runs, runs that reported at least one problem, distinct targets.';
COMMENT ON COLUMN devdiag.v_tenant_daily.day IS 'UTC calendar day of the runs.';
COMMENT ON COLUMN devdiag.v_tenant_daily.runs IS 'All runs that day, with or without problems.';
COMMENT ON COLUMN devdiag.v_tenant_daily.problem_runs IS
'Runs that reported at least one problem: the denominator of the fix success rate (as in v_tenant_health).';
COMMENT ON COLUMN devdiag.v_tenant_daily.targets IS 'Distinct targets probed that day.';
