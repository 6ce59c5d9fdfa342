-- Checks: size of every table of the warehouse (with indexes and TOAST), and
-- whether autovacuum keeps up: warn when dead rows exceed
-- settings.health_dead_row_share (default 0.2) of live rows on a table with
-- more than 10000 dead rows.
-- Rows: check_name, subject, status (ok | warn), value (bytes), detail.
WITH cfg AS (
    SELECT coalesce((
        SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
        WHERE s.key = 'health_dead_row_share'
    ), 0.2) AS max_dead_share
)

SELECT
    'table_size' AS check_name,
    n.nspname || '.' || c.relname AS subject,
    CASE
        WHEN
            coalesce(st.n_dead_tup, 0) > 10000
            AND st.n_dead_tup > cfg.max_dead_share * greatest(st.n_live_tup, 1)
            THEN 'warn'
        ELSE 'ok'
    END AS status,
    pg_total_relation_size(c.oid)::numeric AS value,
    pg_size_pretty(pg_total_relation_size(c.oid)) || ', about ' || greatest(c.reltuples, 0)::bigint
    || ' rows, ' || coalesce(st.n_dead_tup, 0) || ' dead; last autovacuum '
    || coalesce(st.last_autovacuum::text, 'never') AS detail
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
LEFT JOIN pg_catalog.pg_stat_user_tables AS st ON c.oid = st.relid
CROSS JOIN cfg
WHERE
    (n.nspname = 'devdiag' OR n.nspname LIKE 'devdiag\_%')
    AND c.relkind IN ('r', 'p')
ORDER BY pg_total_relation_size(c.oid) DESC, subject ASC;
