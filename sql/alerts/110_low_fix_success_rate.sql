-- Fires when: a learned fix with more than settings.alert_fix_min_successes
-- (default 10) successes has a mean confidence below
-- settings.alert_fix_min_confidence (default 0.5): DevDiag's
-- "Low Fix Success Rate" alert, per tenant.
-- Rows: one per tenant, problem and fix.
WITH cfg AS (
    SELECT
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_fix_min_confidence'
        ), 0.5) AS min_confidence,
        coalesce((
            SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
            WHERE s.key = 'alert_fix_min_successes'
        ), 10) AS min_successes
)

SELECT
    fs.tenant,
    fs.problem_code,
    fs.fix_code,
    fs.successes,
    round(fs.avg_confidence::numeric, 4) AS avg_confidence
FROM devdiag.v_fix_success AS fs
CROSS JOIN cfg
WHERE
    fs.avg_confidence < cfg.min_confidence
    AND fs.successes > cfg.min_successes
ORDER BY fs.avg_confidence, fs.tenant, fs.problem_code, fs.fix_code;
