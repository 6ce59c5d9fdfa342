"""plpgsql_check (make lint-plpgsql) finds nothing in the PL/pgSQL functions of the warehouse, and reports
what it finds with the file that defines the function."""

from __future__ import annotations

import psycopg
import pytest

from devdiag_warehouse import plpgsql_lint


@pytest.fixture
def checked_db(pg, fresh_db):
    """A fresh clone with the plpgsql_check extension, or a skip where the server has no such extension."""
    with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
        if not su.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'plpgsql_check'").fetchone():
            pytest.skip(f"plpgsql_check is not installed for this server: apt-get install {plpgsql_lint.PACKAGE} "
                        "(Debian's PostgreSQL 15; the embedded wheel has no extensions)")
    return fresh_db


def test_every_plpgsql_function_has_no_plpgsql_check_findings(pg, checked_db):
    """Every PL/pgSQL function of the warehouse, rollup upkeep included, passes plpgsql_check without a warning."""
    checked, findings = plpgsql_lint.lint(pg.dsn(checked_db), pg.superuser_dsn(checked_db), [])
    assert checked >= 20
    assert findings == []


def test_plpgsql_check_reports_a_finding_with_the_function_and_its_line(pg, checked_db):
    """A function with an unused variable and a text-to-jsonb assignment is reported, line by line."""
    with psycopg.connect(pg.dsn(checked_db), autocommit=True) as conn:
        conn.execute("""
            CREATE FUNCTION devdiag.t_lint_probe() RETURNS jsonb LANGUAGE plpgsql AS $$
            DECLARE
                unused integer;
                t text := '{}';
                j jsonb;
            BEGIN
                j := t;
                RETURN j;
            END;
            $$""")
    _checked, findings = plpgsql_lint.lint(pg.dsn(checked_db), pg.superuser_dsn(checked_db), ["sql/*", "migrations/*"])
    probe = [f for f in findings if "t_lint_probe()" in f]
    assert any('unused variable "unused"' in f for f in probe), findings
    assert any("line 7 of the body" in f and 'cast "text" value to "jsonb"' in f for f in probe), findings
    assert all(f.startswith("(not defined in sql/ or migrations/): ") for f in probe)
