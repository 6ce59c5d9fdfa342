"""The views Tableau reads expose only types Tableau's PostgreSQL connector can use.

Tableau knows strings, whole and decimal numbers, dates, date-times and
booleans.  json/jsonb, arrays, intervals, ranges, composites, enums, uuid,
bytea and the like arrive as unsupported columns (or not at all), so a
Tableau-facing view must turn them into one of those first: durations become
numbers of days or hours, problem lists become text or one row per code.

Tableau-facing (documented in docs/TABLEAU.md): the contract views, the
bridge ``v_run_problem`` and every view defined in ``sql/views/6xx_*.sql``.
Internal helpers (``v_run_all`` with its jsonb columns, ``v_ttr_episodes``)
are not meant for Tableau and are not checked here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]

CONTRACT_VIEWS = [
    "v_problem_counts", "v_fix_success", "v_fix_ranking", "v_env_diversity", "v_recent_activity",
    "v_ttr_days", "v_open_problems", "v_tenant_health",
]
BRIDGE_VIEWS = ["v_run_problem"]
# pre-aggregated for the TTR histogram dashboard (docs/TABLEAU.md)
HISTOGRAM_VIEWS = ["v_ttr_histogram"]


def analyst_views() -> list[str]:
    """Views defined in sql/views/6xx_*.sql (the analysts' range), by their CREATE statement."""
    names = []
    for path in sorted((ROOT / "sql" / "views").glob("6[0-9][0-9]_*.sql")):
        m = re.search(r"CREATE OR REPLACE VIEW devdiag\.(\w+)", path.read_text())
        assert m, f"{path.name} defines no devdiag view"
        names.append(m.group(1))
    return names


TABLEAU_VIEWS = CONTRACT_VIEWS + BRIDGE_VIEWS + HISTOGRAM_VIEWS + analyst_views()

# Base types (after resolving domains) that map onto Tableau's data types.
TABLEAU_TYPES = {
    "bool": "boolean",
    "int2": "number (whole)", "int4": "number (whole)", "int8": "number (whole)",
    "numeric": "number (decimal)", "float4": "number (decimal)", "float8": "number (decimal)",
    "text": "string", "varchar": "string", "bpchar": "string",
    "date": "date",
    "timestamp": "date & time", "timestamptz": "date & time",
}

COLUMNS_SQL = """
SELECT c.relname, a.attname, a.attnum,
       coalesce(bt.typname, t.typname) AS base_type,
       coalesce(bt.typtype, t.typtype) AS typtype,
       coalesce(bt.typcategory, t.typcategory) AS typcategory,
       format_type(a.atttypid, a.atttypmod) AS declared
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
WHERE n.nspname = 'devdiag' AND c.relkind IN ('v', 'm') AND c.relname = ANY(%s)
ORDER BY c.relname, a.attnum
"""

REASONS = {"A": "an array", "c": "a composite", "r": "a range", "m": "a multirange", "e": "an enum",
           "p": "a pseudo-type"}


def unusable_columns(conn, views: list[str]) -> list[str]:
    """One line per column whose type Tableau cannot use, naming view, column, type and why."""
    bad = []
    for view, col, _num, base, typtype, category, declared in conn.execute(COLUMNS_SQL, (views,)):
        if base in TABLEAU_TYPES:
            continue
        why = REASONS.get(category if category == "A" else typtype, f"not one of {sorted(TABLEAU_TYPES)}")
        if base in ("json", "jsonb"):
            why = "JSON (Tableau reads it as an opaque string at best)"
        elif base == "interval":
            why = "an interval (give durations as numbers of days or hours)"
        bad.append(f"devdiag.{view}.{col}: {declared} is {why}")
    return bad


def test_every_tableau_facing_view_exists_with_a_comment(db):
    """Each view Tableau is told to use exists in devdiag and explains itself in the catalog."""
    rows = dict(db.execute(
        """SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'devdiag' AND c.relkind = 'v' AND c.relname = ANY(%s)""",
        (TABLEAU_VIEWS,)).fetchall())
    assert sorted(rows) == sorted(TABLEAU_VIEWS)
    assert [v for v, comment in rows.items() if not comment] == []


def test_tableau_facing_views_expose_only_types_tableau_can_use(db):
    """No JSON, array, interval, range, composite or other unusable column in a Tableau-facing view."""
    assert unusable_columns(db, TABLEAU_VIEWS) == []


def test_ttr_hours_is_numeric_and_durations_are_numbers(db):
    """Durations reach Tableau as numbers: ttr_days an integer, ttr_hours a numeric, age_days an integer."""
    types = dict(((v, c), t) for v, c, t in db.execute(
        """SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = 'devdiag' AND (table_name, column_name) IN (
             ('v_ttr_days', 'ttr_days'), ('v_ttr_days', 'ttr_hours'),
             ('v_open_problems', 'age_days'), ('v_problem_episodes', 'ttr_hours'))"""))
    assert types == {
        ("v_ttr_days", "ttr_days"): "integer", ("v_ttr_days", "ttr_hours"): "numeric",
        ("v_open_problems", "age_days"): "integer", ("v_problem_episodes", "ttr_hours"): "numeric",
    }


@pytest.mark.parametrize("expr, why", [
    ("'{}'::jsonb", "JSON"), ("'{}'::json", "JSON"), ("ARRAY['a']", "an array"),
    ("interval '1 day'", "an interval"), ("int4range(1, 2)", "a range"),
    ("ROW(1, 'a')::devdiag.t_pair", "a composite"), ("gen_random_uuid()", "not one of"),
    ("'{}'::devdiag.d_json", "JSON"),
])
def test_contract_check_refuses_a_view_with_an_unusable_type(db, expr, why):
    """The check itself fails on each kind of column Tableau cannot use (domains are resolved)."""
    db.execute("CREATE TYPE devdiag.t_pair AS (n integer, s text)")
    db.execute("CREATE DOMAIN devdiag.d_json AS jsonb")
    db.execute(sql.SQL("CREATE VIEW devdiag.v_probe AS SELECT 1 AS ok, {} AS bad").format(sql.SQL(expr)))
    assert [ln for ln in unusable_columns(db, ["v_probe"]) if why in ln and ".v_probe.bad:" in ln]
    assert not [ln for ln in unusable_columns(db, ["v_probe"]) if ".v_probe.ok:" in ln]


def test_tableau_guide_names_every_tableau_facing_view():
    """docs/TABLEAU.md documents each view the contract test treats as Tableau-facing."""
    text = (ROOT / "docs" / "TABLEAU.md").read_text()
    assert [v for v in TABLEAU_VIEWS if f"`{v}`" not in text] == []


def test_ttr_hours_shows_four_decimals_in_every_view_that_has_it(db):
    """An episode cleared after two minutes reads 0.0333 hours in v_ttr_days and v_problem_episodes alike,
    as the README states (4 decimals); the exact duration stays in ttr_seconds."""
    db.execute(
        # explicit ids: the shared database's id sequence stays where other tests expect it
        """INSERT INTO devdiag.diag_run (id, ts, tenant, target_hash, problems, preset) VALUES
           (990001, '2025-03-02 23:59:00+00', 't_ttr', repeat('a', 64), '["MIXED_CONTENT"]', 'full'),
           (990002, '2025-03-03 00:01:00+00', 't_ttr', repeat('a', 64), '[]', 'full')""")
    # the views are exact as of the last refresh (rolled back with the rest)
    db.execute("CALL devdiag.refresh_rollups()")
    got = {view: db.execute(
        f"SELECT ttr_hours, ttr_hours::text FROM devdiag.{view} WHERE tenant = 't_ttr'").fetchall()  # noqa: S608
        for view in ("v_ttr_days", "v_problem_episodes")}
    assert got == {view: [(Decimal("0.0333"), "0.0333")] for view in got}
    assert db.execute("SELECT ttr_seconds FROM devdiag.v_ttr_days WHERE tenant = 't_ttr'").fetchone() == (120,)


# --------------------------------------------------------------------------
# Tableau's own engine: a .hyper extract of every Tableau-facing view
# --------------------------------------------------------------------------

# PostgreSQL base type -> the Hyper type a Tableau extract stores (docs/TABLEAU.md,
# "Types": text -> String, integer/bigint -> Number (whole), numeric/float8 ->
# Number (decimal), date -> Date, timestamptz -> Date & Time, boolean -> Boolean).
HYPER_TYPES = {
    "int2": "big_int", "int4": "big_int", "int8": "big_int",
    "numeric": "double", "float4": "double", "float8": "double",
    "text": "text", "varchar": "text", "bpchar": "text",
    "date": "date", "timestamp": "timestamp", "timestamptz": "timestamp_tz", "bool": "bool",
}


@pytest.fixture(scope="module")
def hyper_logins(pg, scenario_loader):
    """A clone holding the scenario plus a run of the last hour, a reader login of acme and an analyst login."""
    import uuid

    from psycopg import connect

    name = pg.clone()
    prefix = f"t_hyper_{uuid.uuid4().hex[:8]}"
    logins = {"reader_acme": f"{prefix}_reader_acme", "analyst": f"{prefix}_analyst"}
    with connect(pg.dsn(name), autocommit=True) as dba:
        scenario_loader(dba)
        dba.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) VALUES "
                    "(now() - interval '1 hour', 'acme', repeat('d', 64), '[\"ROUTE_404\"]', 'app'), "
                    "(now() - interval '2 hours', 'globex', repeat('e', 64), '[\"ROUTE_404\"]', 'app')")
        # the logins read the views in their own sessions: fold the runs of the last hours
        dba.execute("CALL devdiag.refresh_rollups()")
        for role, group in (("reader_acme", "devdiag_reader"), ("analyst", "devdiag_analyst")):
            dba.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                sql.Identifier(logins[role]), sql.Identifier(group)))
        dba.execute("SELECT devdiag.grant_tenant(%s, 'acme')", (logins["reader_acme"],))
    yield name, logins
    with connect(pg.dsn(name), autocommit=True) as dba:
        for login in logins.values():
            dba.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))
    pg.drop(name)


def build_hyper_extract(conn, hyper, path: Path, views: list[str]) -> dict[str, int]:
    """Write one Hyper table per view, typed as a Tableau extract types it; return the rows read per view."""
    from decimal import Decimal as D

    from tableauhyperapi import (
        Connection,
        CreateMode,
        Inserter,
        SqlType,
        TableDefinition,
        TableName,
    )

    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    columns: dict[str, list[tuple[str, str]]] = {}
    for view, col, _num, base, _typtype, _category, _declared in conn.execute(COLUMNS_SQL, (views,)):
        columns.setdefault(view, []).append((col, base))
    read = {}
    with Connection(hyper.endpoint, str(path), CreateMode.CREATE_AND_REPLACE) as hconn:
        hconn.catalog.create_schema("Extract")
        for view in views:
            cols = columns[view]
            unknown = [f"{c}: {b}" for c, b in cols if b not in HYPER_TYPES]
            assert unknown == [], (view, unknown)
            table = TableDefinition(TableName("Extract", view), [
                TableDefinition.Column(c, getattr(SqlType, HYPER_TYPES[b])()) for c, b in cols])
            hconn.catalog.create_table(table)
            rows = conn.execute(sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(sql.Identifier(c) for c, _ in cols), sql.Identifier("devdiag", view))).fetchall()
            with Inserter(hconn, table) as ins:
                ins.add_rows([[float(v) if isinstance(v, D) else v for v in r] for r in rows])
                ins.execute()
            read[view] = len(rows)
    conn.rollback()
    return read


@pytest.mark.parametrize("login, tenants", [("reader_acme", {"acme"}), ("analyst", {"acme", "globex"})])
def test_hyper_extract_of_every_tableau_facing_view_has_the_rows_and_types_tableau_documents(
        pg, hyper_logins, tmp_path, login, tenants):
    """Tableau's Hyper engine stores every Tableau-facing view, read as a per-tenant login and as an analyst,
    with each column in its documented type and every row the login may read (its tenants only)."""
    hyperapi = pytest.importorskip(
        "tableauhyperapi", reason="the tableauhyperapi wheel (Tableau's Hyper engine) is not available for this "
                                  "platform: PyPI ships it for x86-64 only")
    from psycopg import connect

    dbname, logins = hyper_logins
    path = tmp_path / f"{login}.hyper"
    with hyperapi.HyperProcess(telemetry=hyperapi.Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU,
                               parameters={"log_dir": str(tmp_path)}) as hyper:
        with connect(pg.dsn(dbname, logins[login])) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            read = build_hyper_extract(conn, hyper, path, TABLEAU_VIEWS)
            declared = {(v, c): b for v, c, _n, b, *_ in conn.execute(COLUMNS_SQL, (TABLEAU_VIEWS,))}
        with hyperapi.Connection(hyper.endpoint, str(path)) as hconn:
            in_extract = {}
            for view in TABLEAU_VIEWS:
                table = hyperapi.TableName("Extract", view)
                definition = hconn.catalog.get_table_definition(table)
                for col in definition.columns:
                    name = col.name.unescaped
                    want = getattr(hyperapi.SqlType, HYPER_TYPES[declared[(view, name)]])()
                    assert col.type == want, (view, name, str(col.type), str(want))
                assert {c.name.unescaped for c in definition.columns} == {c for v, c in declared if v == view}
                in_extract[view] = hconn.execute_scalar_query(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
                if any(c.name.unescaped == "tenant" for c in definition.columns):
                    got = {r[0] for r in hconn.execute_list_query(f"SELECT DISTINCT tenant FROM {table}")}  # noqa: S608
                    assert got == tenants, view
    assert in_extract == read
    assert [v for v, n in read.items() if n == 0] == []  # no view passes on an empty extract
