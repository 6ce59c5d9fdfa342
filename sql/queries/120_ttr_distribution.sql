-- Answers: per tenant, how many remediation episodes took 0, 1, 2 ... whole days to resolve?
-- One of DevDiag's quick validation queries: TTR Distribution, per tenant.
-- Parameters (psql -v NAME=VALUE, optional): tenant (default: every tenant you may read).
\ir include/tenant_param.psql
-- Reads the histogram rollup (one row per tenant, problem and ttr_days): the
-- same counts as grouping v_ttr_days, without reading a row per episode.
SELECT
    h.tenant,
    h.ttr_days,
    sum(h.episodes)::bigint AS episodes
FROM devdiag.v_ttr_histogram AS h
WHERE :'tenant' = '' OR h.tenant = :'tenant'
GROUP BY h.tenant, h.ttr_days
ORDER BY h.tenant ASC, h.ttr_days ASC;
