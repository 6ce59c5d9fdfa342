-- Why: the tenant health dashboard over a window of UTC days has one
-- definition, which sql/queries/340 and make report both select from. Plain
-- SQL, STABLE, one SELECT, neither SECURITY DEFINER nor SET: the planner
-- inlines it into the calling query, so the window's and the caller's tenant
-- filters reach the rollups' indexes, and the views run with the caller's
-- rights (row-level security gives a reader its own tenants only).
-- The body reads views, which sql/views/ creates after sql/functions/: it is
-- checked when a query first uses it, not when it is created.
SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION devdiag.tenant_health_window(p_from date, p_to date)
RETURNS TABLE (
    tenant text,
    runs bigint,
    problem_runs bigint,
    problems_reported bigint,
    episodes_resolved bigint,
    avg_ttr_days double precision,
    open_problems_at_end bigint,
    fix_success_rate_all_time double precision,
    successes_all_time bigint,
    problem_runs_all_time bigint
)
LANGUAGE sql
STABLE
AS $$
    -- runs, and the episodes resolved in the window (their mean ttr_days is
    -- exactly sum / count, as avg() computes it)
    WITH activity AS (
        SELECT
            td.tenant,
            sum(td.runs)::bigint AS runs,
            sum(td.problem_runs)::bigint AS problem_runs,
            sum(td.episodes_resolved)::bigint AS episodes_resolved,
            (sum(td.ttr_days_resolved) / nullif(sum(td.episodes_resolved), 0))::double precision AS avg_ttr_days
        FROM devdiag.v_tenant_daily AS td
        WHERE td.day BETWEEN p_from AND p_to
        GROUP BY td.tenant
    ),

    -- distinct problems per tenant as a count of distinct pairs: hashed once,
    -- instead of count(DISTINCT) sorting each tenant's rows
    reported AS (
        SELECT
            p.tenant,
            count(*)::bigint AS problems_reported
        FROM (
            SELECT DISTINCT
                pc.tenant,
                pc.problem_code
            FROM devdiag.v_problem_counts AS pc
            WHERE pc.day BETWEEN p_from AND p_to
        ) AS p
        GROUP BY p.tenant
    ),

    -- open at the end of the window: started on or before its last day, not
    -- resolved by then (still open: an index-only scan of the open rows; or
    -- resolved after it, for a window in the past); UNION keeps each tenant and
    -- problem once
    still_open AS (
        SELECT
            o.tenant,
            count(*)::bigint AS open_problems
        FROM (
            SELECT
                d.tenant,
                d.problem_code
            FROM devdiag.v_episode_days AS d
            WHERE d.is_open AND d.first_seen_day <= p_to
            UNION
            SELECT
                d.tenant,
                d.problem_code
            FROM devdiag.v_episode_days AS d
            WHERE d.first_zero_day > p_to AND d.first_seen_day <= p_to
        ) AS o
        GROUP BY o.tenant
    )

    SELECT
        h.tenant,
        coalesce(a.runs, 0)::bigint,
        coalesce(a.problem_runs, 0)::bigint,
        coalesce(r.problems_reported, 0)::bigint,
        coalesce(a.episodes_resolved, 0)::bigint,
        a.avg_ttr_days,
        coalesce(o.open_problems, 0)::bigint,
        h.fix_success_rate,
        h.successes,
        h.problem_runs
    FROM devdiag.v_tenant_health AS h
    LEFT JOIN activity AS a ON h.tenant = a.tenant
    LEFT JOIN reported AS r ON h.tenant = r.tenant
    LEFT JOIN still_open AS o ON h.tenant = o.tenant
$$;

RESET check_function_bodies;

COMMENT ON FUNCTION devdiag.tenant_health_window(date, date) IS
'Tenant health over the UTC days p_from to p_to, both included: one row per tenant of v_tenant_health the caller may '
'read, with its runs and runs that reported a problem, distinct problem codes reported, episodes resolved and their '
'mean ttr_days (NULL when none), problem codes with an episode open at the end of p_to, and the all-time fix success '
'rate, successes and runs with problems of v_tenant_health.';
