-- Answers: what did the last 20 runs of the past 24 hours report, in which tenant?
-- One of DevDiag's quick validation queries: Recent Activity (Last 24h), read from the view.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
-- The 20 newest runs are picked from the run table's keys first, so the view
-- formats the problems of those 20 only, not of every run of the day.
SELECT
    ra.tenant,
    ra.ts,
    ra.preset,
    ra.problem_count,
    ra.problems
FROM (
    SELECT
        d.tenant,
        d.id,
        d.ts
    FROM devdiag.diag_run AS d
    WHERE
        d.ts > now() - interval '24 hours'
        AND (:'tenant' = '' OR d.tenant = :'tenant')
    ORDER BY d.ts DESC, d.id DESC
    LIMIT 20
) AS newest
INNER JOIN devdiag.v_recent_activity AS ra
    ON newest.tenant = ra.tenant AND newest.id = ra.run_id AND newest.ts = ra.ts
ORDER BY ra.ts DESC, ra.run_id DESC;
