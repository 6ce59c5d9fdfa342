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
    LEFT JOIN devdiag.diag_run AS d ON d.ts >= b.today_start - interval '1 day'
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
