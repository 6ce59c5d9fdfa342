-- Why: the raw-data definition of devdiag.v_tenant_daily, kept runnable under this
-- name after v_tenant_daily moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_tenant_daily
WITH (security_invoker = TRUE)
AS
WITH runs AS (
    SELECT
        devdiag.utc_day(r.ts) AS day,
        r.tenant,
        count(*) AS runs,
        count(*) FILTER (WHERE jsonb_array_length(r.problems) > 0) AS problem_runs,
        count(DISTINCT r.target_hash) AS targets
    FROM devdiag.v_run_all AS r
    GROUP BY devdiag.utc_day(r.ts), r.tenant
),

resolved AS (
    SELECT
        e.first_zero_day AS day,
        e.tenant,
        count(*) AS episodes_resolved,
        sum(e.ttr_days) AS ttr_days_resolved
    FROM devdiag_ref.v_ref_problem_episodes AS e
    WHERE NOT e.is_open
    GROUP BY e.first_zero_day, e.tenant
)

SELECT
    coalesce(d.day, v.day) AS day,
    coalesce(d.tenant, v.tenant) AS tenant,
    coalesce(d.runs, 0)::bigint AS runs,
    coalesce(d.problem_runs, 0)::bigint AS problem_runs,
    coalesce(d.targets, 0)::bigint AS targets,
    coalesce(v.episodes_resolved, 0)::bigint AS episodes_resolved,
    coalesce(v.ttr_days_resolved, 0)::bigint AS ttr_days_resolved
FROM runs AS d
-- a FULL join: a resolved day without runs would show here, and not in
-- v_tenant_daily, so the tests comparing the two would see it
FULL JOIN resolved AS v ON d.day = v.day AND d.tenant = v.tenant;

COMMENT ON VIEW devdiag_ref.v_ref_tenant_daily IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Runs per UTC day and tenant, live and archived: all runs, runs that reported at least one problem, distinct targets, '
'and the remediation episodes resolved that day with the sum of their ttr_days.';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_daily.day IS 'UTC calendar day of the runs.';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_daily.runs IS 'All runs that day, with or without problems.';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_daily.problem_runs IS
'Runs that reported at least one problem: the denominator of the fix success rate (as in v_tenant_health).';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_daily.targets IS 'Distinct targets probed that day.';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_daily.episodes_resolved IS
'Remediation episodes resolved that day (first_zero_day), as in v_ttr_days.';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_daily.ttr_days_resolved IS
'Sum of the ttr_days of those episodes: SUM(ttr_days_resolved) / SUM(episodes_resolved) is their mean over any days.';
