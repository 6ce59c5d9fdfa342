-- Checks: every view of the analytics contract exists in schema devdiag (a
-- failed or partial make migrate, or a manual DROP, leaves one missing).
-- Rows: check_name, subject, status (ok | fail), value, detail; one per view.
SELECT
    'view_present' AS check_name,
    'devdiag.' || e.view_name AS subject,
    CASE WHEN c.oid IS NULL THEN 'fail' ELSE 'ok' END AS status,
    CASE WHEN c.oid IS NULL THEN 0 ELSE 1 END::numeric AS value,
    CASE WHEN c.oid IS NULL THEN 'missing: run make migrate' ELSE 'present' END AS detail
FROM (
    VALUES
    ('v_problem_counts'),
    ('v_fix_success'),
    ('v_fix_ranking'),
    ('v_env_diversity'),
    ('v_recent_activity'),
    ('v_ttr_days'),
    ('v_open_problems'),
    ('v_tenant_health')
) AS e (view_name)
LEFT JOIN pg_catalog.pg_class AS c
    ON
        e.view_name = c.relname
        AND c.relnamespace = 'devdiag'::regnamespace
        AND c.relkind IN ('v', 'm')
ORDER BY e.view_name;
