-- Checks: the indexes the views, alerts and retention rely on exist and are
-- valid, identified by their leading columns rather than their names (so a
-- rebuilt or partitioned index still counts), and no index of the warehouse
-- is left invalid by a failed CREATE INDEX CONCURRENTLY.
-- Rows: check_name, subject, status (ok | fail), value, detail.
WITH wanted AS (
    SELECT
        w.table_name,
        w.leading_columns,
        w.serves
    FROM (
        VALUES
        ('devdiag.diag_run', ARRAY['tenant', 'target_hash'], 'time to remediation (the episode replay)'),
        ('devdiag.diag_run_archive', ARRAY['tenant', 'target_hash'], 'time to remediation over archived runs (late runs)'),
        ('devdiag_rollup.rollup_ttr_episode', ARRAY['tenant', 'problem_code', 'started_at'], 'oldest open start in sql/queries/330'),
        ('devdiag.fix_outcome', ARRAY['tenant'], 'fix outcomes per tenant')
    ) AS w (table_name, leading_columns, serves)
),

idx AS (
    SELECT
        n.nspname || '.' || t.relname AS table_name,
        n.nspname || '.' || i.relname AS index_name,
        x.indisvalid,
        array(
            SELECT a.attname::text
            FROM unnest(x.indkey::smallint[]) WITH ORDINALITY AS k (attnum, pos)
            INNER JOIN pg_catalog.pg_attribute AS a ON t.oid = a.attrelid AND k.attnum = a.attnum
            ORDER BY k.pos
        ) AS columns
    FROM pg_catalog.pg_index AS x
    INNER JOIN pg_catalog.pg_class AS t ON x.indrelid = t.oid
    INNER JOIN pg_catalog.pg_class AS i ON x.indexrelid = i.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON t.relnamespace = n.oid
    WHERE n.nspname IN ('devdiag', 'devdiag_rollup')
)

SELECT
    'index_present' AS check_name,
    w.table_name || ' (' || array_to_string(w.leading_columns, ', ') || ')' AS subject,
    CASE WHEN m.index_name IS NULL THEN 'fail' ELSE 'ok' END AS status,
    CASE WHEN m.index_name IS NULL THEN 0 ELSE 1 END::numeric AS value,
    coalesce('served by ' || m.index_name, 'missing: ' || w.serves || ' will scan the whole table') AS detail
FROM wanted AS w
LEFT JOIN LATERAL (
    SELECT i.index_name
    FROM idx AS i
    WHERE
        i.table_name = w.table_name
        AND i.indisvalid
        AND i.columns[1:cardinality(w.leading_columns)] = w.leading_columns
    ORDER BY i.index_name
    LIMIT 1
) AS m ON TRUE
UNION ALL
SELECT
    'index_valid' AS check_name,
    i.index_name AS subject,
    'fail' AS status,
    0::numeric AS value,
    'invalid index on ' || i.table_name || ': drop it and create it again' AS detail
FROM idx AS i
WHERE NOT i.indisvalid
ORDER BY check_name, subject;
