-- The mart and the contract view must hold the same rows (as multisets).
WITH mart AS (
    SELECT day, tenant, problem_code, runs FROM {{ ref('fct_problem_counts') }}
),

contract AS (
    SELECT day, tenant, problem_code, runs FROM {{ source('devdiag', 'v_problem_counts') }}
)

SELECT 'only in the mart' AS side, d.* FROM (SELECT * FROM mart EXCEPT ALL SELECT * FROM contract) AS d
UNION ALL
SELECT 'only in the view' AS side, d.* FROM (SELECT * FROM contract EXCEPT ALL SELECT * FROM mart) AS d
