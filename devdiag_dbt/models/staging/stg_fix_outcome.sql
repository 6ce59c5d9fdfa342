SELECT
    f.id AS fix_outcome_id,
    f.ts AS credited_at,
    f.tenant,
    f.problem_code,
    f.fix_code,
    f.confidence,
    f.support,
    f.env_fp
FROM {{ source('devdiag', 'fix_outcome') }} AS f
