-- Fires when: more than settings.alert_problem_run_share (default 0.5) of a
-- tenant's runs in the last 24 hours reported at least one problem, once the
-- tenant has at least settings.alert_problem_rate_min_runs (default 20) runs
-- in that window (a rate, so large and small tenants are judged alike).
-- Rows: one per tenant over the threshold.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_problem_run_share'
        ), 0.5) AS max_share,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_problem_rate_min_runs'
        ), 20) AS min_runs
),

-- The window's whole UTC hours from the hourly rollup (exact as of the last
-- rollup refresh), and the runs of its oldest, partial hour from the raw runs,
-- live and archived. Bounds computed from now() are not constants when the
-- query is planned: the floor lets the planner plan only the days from it on.
hours AS (
    -- (per tenant: a range of its keys in the hourly rollup's index)
    SELECT
        t.tenant,
        x.runs,
        x.problem_runs
    FROM devdiag_rollup.rollup_tenant_total AS t
    CROSS JOIN LATERAL (
        SELECT
            coalesce(sum(h.runs), 0) AS runs,
            coalesce(sum(h.problem_runs), 0) AS problem_runs
        FROM devdiag_rollup.rollup_tenant_hour AS h
        WHERE
            h.tenant = t.tenant
            AND h.hour >= date_bin('1 hour', now() - interval '24 hours', '2000-01-01 00:00:00+00'::timestamptz)
            + interval '1 hour'
    ) AS x
),

partial_hour AS (
    SELECT
        r.tenant,
        1 AS runs,
        (jsonb_array_length(r.problems) > 0)::integer AS problem_runs
    FROM (
        SELECT
            d.tenant,
            d.ts,
            d.problems
        FROM devdiag.diag_run AS d
        UNION ALL
        SELECT
            a.tenant,
            a.ts,
            a.problems
        FROM devdiag.diag_run_archive AS a
    ) AS r
    WHERE
        r.ts >= now() - interval '24 hours'
        AND r.ts < date_bin('1 hour', now() - interval '24 hours', '2000-01-01 00:00:00+00'::timestamptz)
        + interval '1 hour'
        AND r.ts >= devdiag.run_window_floor(interval '24 hours')
),

rates AS (
    SELECT
        w.tenant,
        sum(w.runs)::bigint AS runs_24h,
        sum(w.problem_runs)::bigint AS problem_runs_24h
    FROM (
        SELECT
            hours.tenant,
            hours.runs,
            hours.problem_runs
        FROM hours
        UNION ALL
        SELECT
            partial_hour.tenant,
            partial_hour.runs,
            partial_hour.problem_runs
        FROM partial_hour
    ) AS w
    GROUP BY w.tenant
)

SELECT
    r.tenant,
    r.problem_runs_24h,
    r.runs_24h,
    round(r.problem_runs_24h::numeric / r.runs_24h, 4) AS problem_rate
FROM rates AS r
CROSS JOIN cfg
WHERE
    r.runs_24h >= cfg.min_runs
    AND r.problem_runs_24h > cfg.max_share * r.runs_24h
ORDER BY problem_rate DESC, r.tenant ASC;
