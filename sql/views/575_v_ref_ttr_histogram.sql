-- Why: the raw-data form of v_ttr_histogram (resolved episodes counted per
-- tenant, problem and ttr_days from v_ref_ttr_days), for tests/rollups and
-- make bench.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_ttr_histogram
WITH (security_invoker = TRUE)
AS
SELECT
    d.tenant,
    d.problem_code,
    d.ttr_days,
    count(*)::bigint AS episodes
FROM devdiag_ref.v_ref_ttr_days AS d
GROUP BY d.tenant, d.problem_code, d.ttr_days;

COMMENT ON VIEW devdiag_ref.v_ref_ttr_histogram IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'resolved episodes per tenant, problem and ttr_days.';
