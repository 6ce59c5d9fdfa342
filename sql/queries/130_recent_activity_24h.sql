-- Answers: what did the last 20 runs of the past 24 hours report, in which tenant?
-- One of DevDiag's quick validation queries: Recent Activity (Last 24h), read from the view.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
-- The cutoff as a constant (ISO form with a UTC offset): the planner then plans
-- only the day partitions after it; with now() in the query it plans every
-- day's partition and prunes them only when the query starts.
SELECT to_char((now() - interval '24 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00' AS since \gset
SELECT
    ra.tenant,
    ra.ts,
    ra.preset,
    ra.problem_count,
    ra.problems
FROM devdiag.v_recent_activity AS ra
WHERE
    ra.ts > :'since'::timestamptz
    AND (:'tenant' = '' OR ra.tenant = :'tenant')
ORDER BY ra.ts DESC, ra.run_id DESC
LIMIT 20;
