-- Why: the raw-data definition of devdiag.v_tenant_health, kept runnable under this
-- name after v_tenant_health moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_tenant_health
WITH (security_invoker = TRUE)
AS
WITH tenants AS (
    SELECT r.tenant FROM devdiag.v_run_all AS r
    UNION
    SELECT f.tenant FROM devdiag.fix_outcome AS f
),

runs AS (
    SELECT
        r.tenant,
        -- 168 hours whatever the session TimeZone (interval days follow its DST)
        count(*) FILTER (WHERE r.ts > now() - interval '168 hours')::bigint AS runs_7d,
        count(*) FILTER (WHERE jsonb_array_length(r.problems) > 0)::bigint AS problem_runs
    FROM devdiag.v_run_all AS r
    GROUP BY r.tenant
),

fixes AS (
    SELECT
        f.tenant,
        sum(f.support)::bigint AS successes
    FROM devdiag.fix_outcome AS f
    GROUP BY f.tenant
),

episodes AS (
    SELECT
        e.tenant,
        count(DISTINCT e.problem_code) FILTER (WHERE e.resolved_at IS NULL)::bigint AS active_problems,
        -- one float division, so the mean is the correctly rounded one (avg() rounds
        -- through numeric first and can land one unit in the last place off)
        (
            sum(devdiag.utc_day(e.resolved_at) - devdiag.utc_day(e.started_at))::double precision
            / nullif(count(e.resolved_at), 0)
        ) AS avg_ttr_days
    FROM devdiag_ref.v_ref_ttr_episodes AS e
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

COMMENT ON VIEW devdiag_ref.v_ref_tenant_health IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'One row per tenant with runs or fixes: runs_7d (live and archived, 168 hours before now()), codes with an open episode, fix success rate, mean TTR.';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_health.fix_success_rate IS
'Sum of fix support divided by runs that reported at least one problem (Tableau''s SUM([successes]) / SUM([runs])); NULL without such runs.';
COMMENT ON COLUMN devdiag_ref.v_ref_tenant_health.avg_ttr_days IS 'Mean ttr_days of resolved episodes; NULL when none resolved.';
