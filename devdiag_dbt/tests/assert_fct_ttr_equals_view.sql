-- The mart is a snapshot of the contract view: it must still equal it.
WITH mart AS (
    SELECT tenant, problem_code, target_hash, first_seen_day, first_zero_day, ttr_days, ttr_hours,
           started_at, resolved_at, preset
    FROM {{ ref('fct_ttr') }}
),

contract AS (
    SELECT tenant, problem_code, target_hash, first_seen_day, first_zero_day, ttr_days, ttr_hours,
           started_at, resolved_at, preset
    FROM {{ source('devdiag', 'v_ttr_days') }}
)

SELECT 'only in the mart' AS side, d.* FROM (SELECT * FROM mart EXCEPT ALL SELECT * FROM contract) AS d
UNION ALL
SELECT 'only in the view' AS side, d.* FROM (SELECT * FROM contract EXCEPT ALL SELECT * FROM mart) AS d
