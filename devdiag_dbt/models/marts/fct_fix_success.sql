-- Per tenant, problem and fix: support summed over environments, mean confidence
-- over environments, last credit (as devdiag.v_fix_success).
SELECT
    tenant,
    problem_code,
    fix_code,
    sum(support)::bigint AS successes,
    avg(confidence)::double precision AS avg_confidence,
    max(credited_at) AS last_success,
    count(*)::bigint AS environments
FROM {{ ref('stg_fix_outcome') }}
GROUP BY tenant, problem_code, fix_code
