-- Answers (alert): which tenants had more than 100 problem reports today? Rows only when it fires.
-- One of DevDiag's alert examples: High Problem Rate.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
SELECT
    pc.tenant,
    sum(pc.runs)::bigint AS daily_problems
FROM devdiag.v_problem_counts AS pc
WHERE
    pc.day = current_date
    AND (:'tenant' = '' OR pc.tenant = :'tenant')
GROUP BY pc.tenant
HAVING sum(pc.runs) > 100
ORDER BY daily_problems DESC, pc.tenant ASC;
