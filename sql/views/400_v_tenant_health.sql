-- Why: the tenant health dashboard in one row per tenant.
-- Read from the rollups: whole UTC hours of the 168-hour window from
-- rollup_tenant_hour plus the runs of its oldest, partial hour counted from the
-- raw runs (at most an hour of them, by the ts indexes, counted by
-- run_counts_by_tenant so that only that hour's partitions are planned), so
-- runs_7d stays exact to the microsecond; v_ref_tenant_health is the raw form.
CREATE OR REPLACE VIEW devdiag.v_tenant_health
WITH (security_invoker = TRUE)
AS
WITH tenants AS (
    SELECT r.tenant FROM devdiag_rollup.rollup_tenant_total AS r
    UNION
    SELECT f.tenant FROM devdiag_rollup.rollup_fix_total AS f
),

-- Per tenant (index range scans on each tenant's keys): whole UTC hours of the
-- window from the rollup, the runs of its oldest, partial hour from the raw runs
-- (live and archived).
-- 168 hours whatever the session TimeZone (interval days follow its DST).
runs AS (
    SELECT
        r.tenant,
        r.problem_runs,
        (
            (
                SELECT coalesce(sum(h.runs), 0)
                FROM devdiag_rollup.rollup_tenant_hour AS h
                WHERE
                    h.tenant = r.tenant
                    AND h.hour >= date_bin('1 hour', now() - interval '168 hours', '2000-01-01 00:00:00+00'::timestamptz)
                    + interval '1 hour'
            )
            + coalesce(p.runs, 0)
        )::bigint AS runs_7d
    FROM devdiag_rollup.rollup_tenant_total AS r
    LEFT JOIN devdiag.run_counts_by_tenant(
        now() - interval '168 hours',
        date_bin('1 hour', now() - interval '168 hours', '2000-01-01 00:00:00+00'::timestamptz) + interval '1 hour'
    ) AS p ON r.tenant = p.tenant
),

fixes AS (
    SELECT
        f.tenant,
        sum(f.successes)::bigint AS successes
    FROM devdiag_rollup.rollup_fix_total AS f
    GROUP BY f.tenant
),

episodes AS (
    SELECT
        e.tenant,
        count(*) FILTER (WHERE e.open_episodes > 0)::bigint AS active_problems,
        -- one float division, so the mean is the correctly rounded one
        (
            sum(e.ttr_days_sum)::bigint::double precision
            / nullif(sum(e.resolved_episodes)::bigint, 0)
        ) AS avg_ttr_days
    FROM devdiag_rollup.rollup_episode_stat AS e
    GROUP BY e.tenant
)

SELECT
    t.tenant,
    coalesce(r.runs_7d, 0)::bigint AS runs_7d,
    coalesce(e.active_problems, 0)::bigint AS active_problems,
    (coalesce(f.successes, 0)::double precision / nullif(r.problem_runs, 0))::double precision
        AS fix_success_rate,
    e.avg_ttr_days,
    coalesce(r.problem_runs, 0)::bigint AS problem_runs,
    coalesce(f.successes, 0)::bigint AS successes
FROM tenants AS t
LEFT JOIN runs AS r ON t.tenant = r.tenant
LEFT JOIN fixes AS f ON t.tenant = f.tenant
LEFT JOIN episodes AS e ON t.tenant = e.tenant;

COMMENT ON VIEW devdiag.v_tenant_health IS
'One row per tenant with runs or fixes: runs_7d (live and archived, 168 hours before now()), codes with an open episode, fix success rate, mean TTR.';
COMMENT ON COLUMN devdiag.v_tenant_health.fix_success_rate IS
'Sum of fix support divided by runs that reported at least one problem (Tableau''s SUM([successes]) / SUM([runs])); NULL without such runs.';
COMMENT ON COLUMN devdiag.v_tenant_health.avg_ttr_days IS 'Mean ttr_days of resolved episodes; NULL when none resolved.';
