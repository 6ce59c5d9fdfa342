-- Why: one definition of remediation episodes feeds TTR, open problems and health.
CREATE OR REPLACE VIEW devdiag.v_ttr_episodes
WITH (security_invoker = TRUE)
AS
SELECT
    e.tenant,
    e.target_hash,
    e.problem_code,
    e.preset,
    e.started_at,
    e.last_seen,
    e.resolved_at,
    e.start_run_id,
    e.end_run_id
FROM devdiag.ttr_episodes() AS e;

COMMENT ON VIEW devdiag.v_ttr_episodes IS
'Remediation episodes per tenant, target and problem; resolved_at is NULL while the episode is open.';
