-- Answers: how many remediation episodes took 0, 1, 2 ... whole days to resolve?
-- Source: original guide, "Quick Validation Queries" / TTR Distribution.
-- Reads the histogram rollup (one row per tenant, problem and ttr_days): the
-- same counts as grouping v_ttr_days, without reading a row per episode.
SELECT
    ttr_days,
    sum(episodes)::bigint AS frequency
FROM devdiag.v_ttr_histogram
GROUP BY 1
ORDER BY 1;
