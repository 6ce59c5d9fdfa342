-- Answers: what the migration steps built, as the catalog holds it: schemas,
-- tables and their columns, constraints, indexes, partitioning, sequences,
-- the functions and trigger the steps create, and the group roles. One line
-- per fact, sorted. Views, functions, policies and grants of sql/ are left
-- out: migrate re-creates them. make migrate compares these lines with
-- migrations/0001_baseline.catalog before it adopts a database built by the
-- unreleased steps that the baseline folds.
WITH rel AS (
    SELECT
        c.oid,
        c.relkind,
        c.relispartition,
        c.reloptions,
        n.nspname || '.' || c.relname AS name
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE
        n.nspname IN ('devdiag', 'devdiag_part', 'devdiag_rollup')
        AND c.relkind IN ('r', 'p', 'S')
        -- day partitions come and go with the data; the default ones stay
        AND (NOT c.relispartition OR c.relname LIKE '%\_default')
)

-- one line per fact: a check's literal tab, carriage return or newline is written escaped
SELECT replace(replace(replace(x.line, E'\n', '\n'), E'\r', '\r'), E'\t', '\t') AS line
FROM (
    SELECT 'schema ' || n.nspname || ' owner ' || pg_catalog.pg_get_userbyid(n.nspowner) AS line
    FROM pg_catalog.pg_namespace AS n
    WHERE n.nspname IN ('devdiag', 'devdiag_part', 'devdiag_ref', 'devdiag_rollup')
    UNION ALL
    SELECT
        'relation ' || r.name || ' kind ' || r.relkind::text
        || ' owner ' || pg_catalog.pg_get_userbyid(c.relowner)
        || coalesce(' options ' || r.reloptions::text, '')
        || coalesce(' partitioned ' || pg_catalog.pg_get_partkeydef(r.oid), '')
        || coalesce(' bound ' || pg_catalog.pg_get_expr(c.relpartbound, r.oid), '')
    FROM rel AS r
    INNER JOIN pg_catalog.pg_class AS c ON r.oid = c.oid
    UNION ALL
    SELECT
        'column ' || r.name || ' ' || lpad(
            (row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum))::text, 2, '0'
        )
        || ' ' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
        || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
        || coalesce(' default ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')
        -- PostgreSQL 17 and later give partitions their parent's identity; the parent's says it
        || CASE WHEN r.relispartition THEN '' ELSE CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END END
    FROM rel AS r
    INNER JOIN pg_catalog.pg_attribute AS a ON r.oid = a.attrelid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef AS d ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE r.relkind <> 'S'
    UNION ALL
    SELECT 'constraint ' || r.name || ' ' || k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid)
    FROM rel AS r
    INNER JOIN pg_catalog.pg_constraint AS k ON r.oid = k.conrelid
    -- PostgreSQL 18 keeps NOT NULL as constraints too; the columns above say it
    WHERE k.contype <> 'n'
    UNION ALL
    SELECT 'index ' || r.name || ' ' || pg_catalog.pg_get_indexdef(i.indexrelid)
    FROM rel AS r
    INNER JOIN pg_catalog.pg_index AS i ON r.oid = i.indrelid
    UNION ALL
    SELECT
        'sequence ' || r.name || ' ' || pg_catalog.format_type(s.seqtypid, NULL)
        || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' cache ' || s.seqcache
    FROM rel AS r
    INNER JOIN pg_catalog.pg_sequence AS s ON r.oid = s.seqrelid
    UNION ALL
    SELECT
        'function ' || p.oid::regprocedure::text || ' returns ' || pg_catalog.format_type(p.prorettype, NULL)
        || ' volatility ' || p.provolatile::text || ' language ' || l.lanname
    FROM pg_catalog.pg_proc AS p
    INNER JOIN pg_catalog.pg_language AS l ON p.prolang = l.oid
    WHERE
        p.oid IN (
            to_regprocedure('devdiag.row_limit(text)'),
            to_regprocedure('devdiag.longest_problem_code(jsonb)'),
            to_regprocedure('devdiag.stamp_ingest_id()')
        )
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid)
    FROM pg_catalog.pg_trigger AS t
    WHERE t.tgfoid = to_regprocedure('devdiag.stamp_ingest_id()')
    UNION ALL
    SELECT 'role ' || r.rolname || CASE WHEN r.rolcanlogin THEN ' login' ELSE ' nologin' END
    FROM pg_catalog.pg_roles AS r
    WHERE
        r.rolname IN (
            'devdiag_owner', 'devdiag_writer', 'devdiag_syncer', 'devdiag_reader', 'devdiag_analyst', 'devdiag_monitor'
        )
    UNION ALL
    SELECT 'member ' || pg_catalog.pg_get_userbyid(m.member) || ' of ' || pg_catalog.pg_get_userbyid(m.roleid)
    FROM pg_catalog.pg_auth_members AS m
    WHERE m.roleid = 'devdiag_writer'::regrole AND m.member = 'devdiag_syncer'::regrole
    UNION ALL
    SELECT
        'default privileges ' || pg_catalog.pg_get_userbyid(d.defaclrole) || ' ' || d.defaclobjtype::text
        || ' ' || d.defaclacl::text
    FROM pg_catalog.pg_default_acl AS d
    WHERE d.defaclrole = 'devdiag_owner'::regrole

) AS x
ORDER BY x.line;
