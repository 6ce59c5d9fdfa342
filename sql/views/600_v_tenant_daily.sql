-- Why: tenant health over any date window needs runs per UTC day (runs of
-- every kind, not only those that reported a problem), which no contract
-- view carries; Tableau filters this by day instead of a fixed 7 days.
-- v_ref_tenant_daily is the same over raw runs. The episodes resolved that
-- day come beside the runs, so a window's mean time to remediation is two
-- sums over its days (sql/queries/340).
CREATE OR REPLACE VIEW devdiag.v_tenant_daily
WITH (security_invoker = TRUE)
AS
-- Runs come from the daily rollup (the hourly one summed per UTC day); distinct
-- targets need the day's raw runs, counted only when a query asks for them
-- (an unreferenced column of a view is not computed).
SELECT
    d.day,
    d.tenant,
    d.runs,
    d.problem_runs,
    (
        SELECT count(DISTINCT r.target_hash)
        FROM (
            SELECT x.target_hash FROM devdiag.diag_run AS x
            WHERE
                x.tenant = d.tenant
                AND x.ts >= (d.day::timestamp AT TIME ZONE 'UTC') AND x.ts < ((d.day + 1)::timestamp AT TIME ZONE 'UTC')
            UNION ALL
            SELECT x.target_hash FROM devdiag.diag_run_archive AS x
            WHERE
                x.tenant = d.tenant
                AND x.ts >= (d.day::timestamp AT TIME ZONE 'UTC') AND x.ts < ((d.day + 1)::timestamp AT TIME ZONE 'UTC')
        ) AS r
    )::bigint AS targets,
    coalesce(v.episodes, 0)::bigint AS episodes_resolved,
    coalesce(v.ttr_days_sum, 0)::bigint AS ttr_days_resolved
FROM devdiag_rollup.rollup_tenant_day AS d
-- an episode is resolved by a run of its tenant that day, so every resolved
-- day is a day with runs; (tenant, day) is unique there, so a query that
-- reads no resolved column skips the join
LEFT JOIN devdiag_rollup.rollup_resolved_day AS v ON d.tenant = v.tenant AND d.day = v.day;

COMMENT ON VIEW devdiag.v_tenant_daily IS
'Runs per UTC day and tenant, live and archived: all runs, runs that reported at least one problem, distinct targets, '
'and the remediation episodes resolved that day with the sum of their ttr_days.';
COMMENT ON COLUMN devdiag.v_tenant_daily.day IS 'UTC calendar day of the runs.';
COMMENT ON COLUMN devdiag.v_tenant_daily.runs IS 'All runs that day, with or without problems.';
COMMENT ON COLUMN devdiag.v_tenant_daily.problem_runs IS
'Runs that reported at least one problem: the denominator of the fix success rate (as in v_tenant_health).';
COMMENT ON COLUMN devdiag.v_tenant_daily.targets IS 'Distinct targets probed that day.';
COMMENT ON COLUMN devdiag.v_tenant_daily.episodes_resolved IS
'Remediation episodes resolved that day (first_zero_day), as in v_ttr_days.';
COMMENT ON COLUMN devdiag.v_tenant_daily.ttr_days_resolved IS
'Sum of the ttr_days of those episodes: SUM(ttr_days_resolved) / SUM(episodes_resolved) is their mean over any days.';
