-- Checks: size of every table of the warehouse (with indexes and TOAST; a
-- partitioned table counts its partitions and is one row), and whether
-- autovacuum keeps up: warn when dead rows exceed settings.health_dead_row_share
-- (default 0.2) of live rows on a table with more than 10000 dead rows.
-- Row counts are the planner's estimate; a table never analysed says so.
-- Rows: check_name, subject, status (ok | warn), value (bytes), detail.
WITH cfg AS (
    SELECT coalesce((
        SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
        WHERE s.key = 'health_dead_row_share'
    ), 0.2) AS max_dead_share
),

tables AS (
    SELECT
        c.oid,
        n.nspname || '.' || c.relname AS subject,
        sum(pg_total_relation_size(leaf.oid)) AS bytes,
        sum(greatest(leaf.reltuples, 0)) AS est_rows,
        bool_or(leaf.reltuples < 0) AS never_analysed,
        sum(coalesce(st.n_live_tup, 0)) AS live_rows,
        sum(coalesce(st.n_dead_tup, 0)) AS dead_rows,
        max(st.last_autovacuum) AS last_autovacuum
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    CROSS JOIN
        LATERAL (
            SELECT pt.relid FROM pg_catalog.pg_partition_tree(c.oid) AS pt
            WHERE pt.isleaf
            UNION ALL
            SELECT c.oid
            WHERE c.relkind = 'r'
        ) AS parts
    INNER JOIN pg_catalog.pg_class AS leaf ON parts.relid = leaf.oid
    LEFT JOIN pg_catalog.pg_stat_user_tables AS st ON leaf.oid = st.relid
    WHERE
        (n.nspname = 'devdiag' OR n.nspname LIKE 'devdiag\_%')
        AND c.relkind IN ('r', 'p')
        AND NOT c.relispartition
    GROUP BY c.oid, n.nspname, c.relname
)

SELECT
    'table_size' AS check_name,
    t.subject,
    CASE
        WHEN
            t.dead_rows > 10000
            AND t.dead_rows > cfg.max_dead_share * greatest(t.live_rows, 1)
            THEN 'warn'
        ELSE 'ok'
    END AS status,
    t.bytes AS value,
    pg_size_pretty(t.bytes) || ', '
    || CASE
        WHEN NOT t.never_analysed THEN 'about ' || t.est_rows::bigint || ' rows'
        WHEN t.live_rows > 0 THEN 'about ' || t.live_rows || ' rows (not analysed yet)'
        ELSE 'not analysed yet'
    END
    || ', ' || t.dead_rows || ' dead; last autovacuum '
    || coalesce(t.last_autovacuum::text, 'never') AS detail
FROM tables AS t
CROSS JOIN cfg
ORDER BY t.bytes DESC, t.subject ASC;
