-- Resolved remediation episodes, taken from the contract view on purpose: the
-- episode semantics (opened by a report while none is open, ended by the first
-- later run of the same preset or full without the problem, per target, in
-- time order whatever the arrival order) are defined once, in
-- devdiag_ref.ttr_episodes(); a second SQL derivation here would drift from it.
SELECT
    tenant,
    problem_code,
    target_hash,
    first_seen_day,
    first_zero_day,
    ttr_days,
    ttr_hours,
    started_at,
    resolved_at,
    preset
FROM {{ source('devdiag', 'v_ttr_days') }}
