-- Answers (alert): which well-supported fixes, in which tenant, have a mean confidence below 50%? Rows only when it fires.
-- One of DevDiag's alert examples: Low Fix Success Rate.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
SELECT
    fs.tenant,
    fs.problem_code,
    fs.fix_code,
    fs.successes,
    fs.avg_confidence
FROM devdiag.v_fix_success AS fs
WHERE
    fs.avg_confidence < 0.5
    AND fs.successes > 10
    AND (:'tenant' = '' OR fs.tenant = :'tenant')
ORDER BY fs.avg_confidence ASC, fs.tenant ASC, fs.problem_code ASC, fs.fix_code ASC;
