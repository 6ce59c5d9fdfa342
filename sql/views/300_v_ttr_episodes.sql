-- Why: one definition of remediation episodes feeds TTR, open problems and health.
-- Read from rollup_ttr_episode, which each refresh keeps equal to the rows of
-- devdiag_ref.ttr_episodes() (v_ref_ttr_episodes) as of that refresh.
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
FROM devdiag_rollup.rollup_ttr_episode AS e;

COMMENT ON VIEW devdiag.v_ttr_episodes IS
'Remediation episodes per tenant, target and problem; resolved_at is NULL while the episode is open.';
