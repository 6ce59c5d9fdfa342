-- Why: the monitoring summary (devdiag.monitor_ops, the Prometheus query
-- devdiag_ops) reports the support-weighted fix confidence and the number of
-- fix outcomes. It summed every fix_outcome row on each scrape, which grows
-- with the warehouse; the fix totals rollup now keeps both sums per fix
-- group, so the summary reads a row per group. Filled here from fix_outcome;
-- the refresh keeps them from then on, with the rest of the group.
SET lock_timeout = '5s';
SET statement_timeout = '0';

ALTER TABLE devdiag_rollup.rollup_fix_total
ADD COLUMN weight_sum bigint NOT NULL DEFAULT 0,
ADD COLUMN weighted_confidence_sum double precision NOT NULL DEFAULT 0;

UPDATE devdiag_rollup.rollup_fix_total AS r
SET
    weight_sum = s.weight_sum,
    weighted_confidence_sum = s.weighted_confidence_sum
FROM (
    SELECT
        f.tenant,
        f.problem_code,
        f.fix_code,
        sum(greatest(f.support, 1)) AS weight_sum,
        sum(f.confidence * greatest(f.support, 1)) AS weighted_confidence_sum
    FROM devdiag.fix_outcome AS f
    GROUP BY f.tenant, f.problem_code, f.fix_code
) AS s
WHERE r.tenant = s.tenant AND r.problem_code = s.problem_code AND r.fix_code = s.fix_code;

COMMENT ON COLUMN devdiag_rollup.rollup_fix_total.weight_sum IS
'Sum over the group''s fix_outcome rows of greatest(support, 1): each row''s weight in the weighted confidence.';
COMMENT ON COLUMN devdiag_rollup.rollup_fix_total.weighted_confidence_sum IS
'Sum over the group''s fix_outcome rows of confidence * greatest(support, 1).';
