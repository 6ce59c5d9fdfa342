-- Answers: which problems, in which tenant, show up in the most distinct environments (systemic rather than local)?
-- One of DevDiag's quick validation queries: Environment Diversity Leaders, per tenant.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
SELECT
    ed.tenant,
    ed.problem_code,
    ed.unique_environments,
    ed.total_runs
FROM devdiag.v_env_diversity AS ed
WHERE :'tenant' = '' OR ed.tenant = :'tenant'
ORDER BY ed.unique_environments DESC, ed.total_runs DESC, ed.tenant ASC, ed.problem_code ASC
LIMIT 10;
