-- Why: the time-to-remediation histogram (Tableau dashboard 3: episodes per
-- ttr_days, filtered by tenant and problem) as counts, so it answers from a
-- few hundred rows however many episodes there are; the same numbers as
-- count(*) over v_ttr_days grouped the same way (v_ref_ttr_histogram).
CREATE OR REPLACE VIEW devdiag.v_ttr_histogram
WITH (security_invoker = TRUE)
AS
SELECT
    h.tenant,
    h.problem_code,
    h.ttr_days,
    h.episodes
FROM devdiag_rollup.rollup_ttr_histogram AS h;

COMMENT ON VIEW devdiag.v_ttr_histogram IS
'Resolved remediation episodes per tenant, problem and ttr_days (whole UTC days): sum episodes for a histogram.';
COMMENT ON COLUMN devdiag.v_ttr_histogram.episodes IS 'Resolved episodes with this ttr_days (the rows of v_ttr_days).';
