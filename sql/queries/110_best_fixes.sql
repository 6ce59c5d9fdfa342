-- Answers: which fixes, in which tenant, have cleared their problem most often, and how confident is the learner?
-- One of DevDiag's quick validation queries: Best Fixes by Success Count, per tenant.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
SELECT
    fs.tenant,
    fs.problem_code,
    fs.fix_code,
    fs.successes,
    round(fs.avg_confidence::numeric, 3) AS avg_confidence
FROM devdiag.v_fix_success AS fs
WHERE :'tenant' = '' OR fs.tenant = :'tenant'
ORDER BY fs.successes DESC, fs.tenant ASC, fs.problem_code ASC, fs.fix_code ASC
LIMIT 15;
