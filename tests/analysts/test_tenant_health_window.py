"""devdiag.tenant_health_window is the one definition of tenant health over a window of UTC days.

sql/queries/340 and make report both select from it. It runs as the caller,
so row-level security decides the tenants; the planner inlines it into the
calling query, so the window reaches the rollups' indexes; its devdiag_ref
twin, which make bench and tests/rollups compare it with, is made from its
own definition. Expected numbers for the scenario are in test_analyst_queries.py.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from psycopg import sql

from devdiag_warehouse import report
from devdiag_warehouse.bench import as_reference
from tests.analysts.test_analyst_queries import psql_rows

SIGNATURE = "tenant_health_window(date, date)"
# the scenario's window, two single days (open at the end differs) and a month without runs
WINDOWS = [("2025-03-01", "2025-03-06"), ("2025-03-01", "2025-03-01"), ("2025-03-02", "2025-03-02"),
           ("2025-02-01", "2025-02-28")]
CALL = "SELECT * FROM devdiag.tenant_health_window(%s, %s) ORDER BY tenant"


def rounded(value, places: str) -> str:
    """A number as psql prints round(value::numeric, n) (a double is cast with 15 significant digits); NULL as ''."""
    if value is None:
        return ""
    return str(Decimal(f"{value:.15g}").quantize(Decimal(places), ROUND_HALF_UP))


def as_340(h: tuple) -> list[str]:
    """A row of the report's tenant health (SQL_HEALTH) in the columns and rounding of sql/queries/340."""
    tenant, runs, problem_runs, problems, resolved, avg_ttr, open_at_end, rate, _successes, _all_problem_runs = h
    pct = rounded(Decimal(100) * problem_runs / runs, "0.1") if runs else ""
    return [tenant, str(runs), pct, str(problems), str(resolved), rounded(avg_ttr, "0.01"), str(open_at_end),
            rounded(rate, "0.001")]


def test_query_340_and_the_report_show_the_same_tenant_health(pg, scenario_db):
    """For every window, with and without a tenant, 340's rows are the report's tenant health rows, in order."""
    dsn = pg.dsn(scenario_db)
    for d_from, d_to in WINDOWS:
        for tenant in (None, "globex"):
            variables = [f"from={d_from}", f"to={d_to}"] + ([f"tenant={tenant}"] if tenant else [])
            got = [list(r.values()) for r in psql_rows(dsn, "340_tenant_health_window.sql", *variables)]
            with psycopg.connect(dsn) as conn:
                data = report.fetch(conn, tenant, date.fromisoformat(d_from), date.fromisoformat(d_to))
            assert got == [as_340(h) for h in data.health], (d_from, d_to, tenant)
            assert got, (d_from, d_to, tenant)


@pytest.fixture(scope="module")
def logins(pg, scenario_loader):
    """A clone holding the scenario, a reader login of acme, a reader mapped to no tenant and an analyst login."""
    name = pg.clone()
    prefix = f"t_thw_{uuid.uuid4().hex[:8]}"
    names = {"reader_acme": f"{prefix}_reader_acme", "reader_none": f"{prefix}_reader_none",
             "analyst": f"{prefix}_analyst"}
    groups = {"reader_acme": "devdiag_reader", "reader_none": "devdiag_reader", "analyst": "devdiag_analyst"}
    with psycopg.connect(pg.dsn(name), autocommit=True) as dba:
        scenario_loader(dba)
        for part, login in names.items():
            dba.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                sql.Identifier(login), sql.Identifier(groups[part])))
        dba.execute("SELECT devdiag.grant_tenant(%s, 'acme')", (names["reader_acme"],))
    yield name, names
    with psycopg.connect(pg.dsn(name), autocommit=True) as dba:
        for login in names.values():
            dba.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))
    pg.drop(name)


@pytest.mark.parametrize("part, tenants", [("reader_acme", ["acme"]), ("reader_none", []),
                                           ("analyst", ["acme", "globex"])])
def test_each_login_gets_the_tenant_health_of_its_own_tenants_only(pg, logins, part, tenants):
    """The function runs with the caller's rights: a reader of acme gets acme's row, with the numbers the owner
    sees for acme; a reader mapped to no tenant gets nothing; an analyst gets every tenant."""
    dbname, names = logins
    with psycopg.connect(pg.dsn(dbname)) as owner:
        everyone = {r[0]: r for r in owner.execute(CALL, WINDOWS[0]).fetchall()}
    with psycopg.connect(pg.dsn(dbname, names[part])) as conn:
        rows = conn.execute(CALL, WINDOWS[0]).fetchall()
    assert [r[0] for r in rows] == tenants
    assert rows == [everyone[t] for t in tenants]


@pytest.mark.parametrize("part", ["reader_acme", "analyst"])
def test_the_function_is_inlined_into_the_callers_query(pg, logins, part):
    """Planned for a reader or an analyst, the call is no opaque function scan: its body is part of the plan, and
    the window and the tenant filter are conditions of the scan of the runs per day (where an index serves them)."""
    dbname, names = logins
    with psycopg.connect(pg.dsn(dbname, names[part])) as conn:
        plan = conn.execute(
            "EXPLAIN (FORMAT JSON, COSTS OFF) SELECT * FROM devdiag.tenant_health_window('2025-03-01', '2025-03-06') "
            "WHERE tenant = 'acme'").fetchone()[0]
    nodes = []

    def walk(node):
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    # (v_tenant_health, which it reads, scans run_counts_by_tenant: a function of its own)
    assert [n for n in nodes if n["Node Type"] == "Function Scan"
            and n.get("Function Name") != "run_counts_by_tenant"] == []
    days = [" ".join(n.get(k, "") for k in ("Index Cond", "Recheck Cond", "Filter"))
            for n in nodes if n.get("Relation Name") == "rollup_tenant_day"]
    assert days and all("2025-03-06" in d and "acme" in d for d in days), days


def test_the_reference_twin_is_the_function_over_the_reference_views(db):
    """devdiag_ref.tenant_health_window is the function's own definition with every view rewritten as make bench
    rewrites a query (bench.as_reference): no second, hand-kept copy."""
    fn, ref = db.execute(
        f"SELECT pg_get_functiondef('devdiag.{SIGNATURE}'::regprocedure), "
        f"pg_get_functiondef('devdiag_ref.{SIGNATURE}'::regprocedure)").fetchone()
    assert "devdiag.v_" in fn
    assert ref == as_reference(fn)
    assert "devdiag.v_" not in ref


def test_the_reference_twin_gives_the_functions_rows(pg, scenario_db):
    """Over the raw runs the twin returns exactly the rows the rollup-backed function returns, for every window."""
    with psycopg.connect(pg.dsn(scenario_db)) as conn:
        for window in WINDOWS:
            rows = conn.execute(CALL, window).fetchall()
            assert rows and rows == conn.execute(CALL.replace("devdiag.", "devdiag_ref."), window).fetchall(), window
