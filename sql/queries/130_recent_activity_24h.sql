-- Answers: what did the last 20 runs of the past 24 hours report, in which tenant?
-- One of DevDiag's quick validation queries: Recent Activity (Last 24h), read from the view.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
SELECT
    ra.tenant,
    ra.ts,
    ra.preset,
    ra.problem_count,
    ra.problems
FROM devdiag.v_recent_activity AS ra
WHERE
    ra.ts > now() - interval '24 hours'
    AND (:'tenant' = '' OR ra.tenant = :'tenant')
ORDER BY ra.ts DESC, ra.run_id DESC
LIMIT 20;
