-- Every mart row belongs to a tenant.
SELECT 'fct_problem_counts' AS mart, tenant FROM {{ ref('fct_problem_counts') }} WHERE coalesce(tenant, '') = ''
UNION ALL
SELECT 'fct_fix_success' AS mart, tenant FROM {{ ref('fct_fix_success') }} WHERE coalesce(tenant, '') = ''
UNION ALL
SELECT 'fct_ttr' AS mart, tenant FROM {{ ref('fct_ttr') }} WHERE coalesce(tenant, '') = ''
