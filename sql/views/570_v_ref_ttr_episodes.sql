-- Why: the raw-data definition of devdiag.v_ttr_episodes, kept runnable under this
-- name after v_ttr_episodes moved onto the rollups: tests/rollups compares the two
-- after every kind of change and make bench times both. Same columns, same
-- rows; only the source differs.
CREATE OR REPLACE VIEW devdiag_ref.v_ref_ttr_episodes
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
FROM devdiag_ref.ttr_episodes() AS e;

COMMENT ON VIEW devdiag_ref.v_ref_ttr_episodes IS
'Reference computed from the raw runs (slow; for tests and make bench): '
'Remediation episodes per tenant, target and problem; resolved_at is NULL while the episode is open.';
