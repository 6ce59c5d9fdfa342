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
        """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) VALUES
           ('2025-03-02 23:59:00+00', 't_ttr', repeat('a', 64), '["MIXED_CONTENT"]', 'full'),
           ('2025-03-03 00:01:00+00', 't_ttr', repeat('a', 64), '[]', 'full')""")
    got = {view: db.execute(
        f"SELECT ttr_hours, ttr_hours::text FROM devdiag.{view} WHERE tenant = 't_ttr'").fetchall()  # noqa: S608
        for view in ("v_ttr_days", "v_problem_episodes")}
    assert got == {view: [(Decimal("0.0333"), "0.0333")] for view in got}
    assert db.execute("SELECT ttr_seconds FROM devdiag.v_ttr_days WHERE tenant = 't_ttr'").fetchone() == (120,)
