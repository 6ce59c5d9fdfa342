-- The mart and the contract view must hold the same rows; the mean confidence is
-- compared to 12 decimals (a float sum may add up in another order).
WITH mart AS (
    SELECT tenant, problem_code, fix_code, successes, round(avg_confidence::numeric, 12) AS avg_confidence,
           last_success
    FROM {{ ref('fct_fix_success') }}
),

contract AS (
    SELECT tenant, problem_code, fix_code, successes, round(avg_confidence::numeric, 12) AS avg_confidence,
           last_success
    FROM {{ source('devdiag', 'v_fix_success') }}
)

SELECT 'only in the mart' AS side, d.* FROM (SELECT * FROM mart EXCEPT ALL SELECT * FROM contract) AS d
UNION ALL
SELECT 'only in the view' AS side, d.* FROM (SELECT * FROM contract EXCEPT ALL SELECT * FROM mart) AS d
