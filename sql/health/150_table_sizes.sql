-- Checks: size of every table of the warehouse (with indexes and TOAST; a
-- partitioned table counts its partitions, which are not listed themselves),
-- and whether autovacuum keeps up: warn when dead rows exceed
-- settings.health_dead_row_share (default 0.2) of live rows on a table (or
-- any one partition) with more than 10000 dead rows.
-- Rows: check_name, subject, status (ok | warn), value (bytes), detail.
WITH cfg AS (
    SELECT coalesce((
        SELECT (s.value #>> '{}')::numeric FROM devdiag.settings AS s
        WHERE s.key = 'health_dead_row_share'
    ), 0.2) AS max_dead_share
),

tbl AS (
    SELECT
        n.nspname || '.' || c.relname AS subject,
        sum(pg_total_relation_size(t.relid))::numeric AS bytes,
        sum(greatest(p.reltuples, 0))::bigint AS est_rows,
        sum(coalesce(st.n_dead_tup, 0))::bigint AS dead,
        bool_or(
            coalesce(st.n_dead_tup, 0) > 10000
            AND st.n_dead_tup > cfg.max_dead_share * greatest(st.n_live_tup, 1)
        ) AS behind,
        max(st.last_autovacuum) AS last_autovacuum
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    CROSS JOIN
        LATERAL (
            SELECT x.relid FROM pg_catalog.pg_partition_tree(c.oid) AS x
            UNION
            SELECT c.oid
        ) AS t
    INNER JOIN pg_catalog.pg_class AS p ON t.relid = p.oid
    LEFT JOIN pg_catalog.pg_stat_user_tables AS st ON t.relid = st.relid
    CROSS JOIN cfg
    WHERE
        (n.nspname = 'devdiag' OR n.nspname LIKE 'devdiag\_%')
        AND c.relkind IN ('r', 'p')
        AND NOT c.relispartition
    GROUP BY n.nspname, c.relname
)

SELECT
    'table_size' AS check_name,
    tbl.subject,
    CASE WHEN tbl.behind THEN 'warn' ELSE 'ok' END AS status,
    tbl.bytes AS value,
    pg_size_pretty(tbl.bytes) || ', about ' || tbl.est_rows
    || ' rows, ' || tbl.dead || ' dead; last autovacuum '
    || coalesce(tbl.last_autovacuum::text, 'never') AS detail
FROM tbl
ORDER BY tbl.bytes DESC, tbl.subject ASC;
