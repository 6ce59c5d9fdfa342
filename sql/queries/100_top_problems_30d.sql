-- Answers: which problems, in which tenant, were reported by the most runs in the last 30 days?
-- One of DevDiag's quick validation queries: Top 10 Problems, per tenant.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
SELECT
    pc.tenant,
    pc.problem_code,
    sum(pc.runs)::bigint AS runs
FROM devdiag.v_problem_counts AS pc
WHERE
    pc.day >= now() - interval '30 days'
    AND (:'tenant' = '' OR pc.tenant = :'tenant')
GROUP BY pc.tenant, pc.problem_code
ORDER BY runs DESC, pc.tenant ASC, pc.problem_code ASC
LIMIT 10;
