-- Checks: runs ingested so far in the current UTC day. ok when there are
-- some, warn when none yet but yesterday had runs, fail when neither day has.
-- Rows: check_name, subject, status (ok | warn | fail), value, detail.
WITH bounds AS (
    SELECT devdiag.utc_day(now())::timestamp AT TIME ZONE 'UTC' AS today_start
),

counts AS (
    SELECT
        count(*) FILTER (WHERE d.ts >= b.today_start) AS runs_today,
        count(*) FILTER (WHERE d.ts < b.today_start) AS runs_yesterday
    FROM bounds AS b
    -- (the floor, a constant when the query is planned, keeps the plan to the
    -- last days' partitions; the bound before it is the exact one)
    LEFT JOIN devdiag.diag_run AS d
        ON d.ts >= b.today_start - interval '1 day' AND d.ts >= devdiag.run_window_floor(interval '48 hours')
)

SELECT
    'runs_today' AS check_name,
    'devdiag.diag_run' AS subject,
    CASE
        WHEN c.runs_today > 0 THEN 'ok'
        WHEN c.runs_yesterday > 0 THEN 'warn'
        ELSE 'fail'
    END AS status,
    c.runs_today::numeric AS value,
    c.runs_today || ' runs today (UTC), ' || c.runs_yesterday || ' yesterday' AS detail
FROM counts AS c;
