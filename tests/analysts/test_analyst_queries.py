"""The parameterised analyst queries (sql/queries/3xx) answer for a tenant and a UTC date window.

Expected rows are worked out by hand from the scenario in conftest.py; the
window is 2025-03-01 .. 2025-03-06, both days included.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

from devdiag_warehouse.localdb import find_bindir

ROOT = Path(__file__).resolve().parents[2]
Q = ROOT / "sql" / "queries"
WINDOW = ("from=2025-03-01", "to=2025-03-06")


def psql_rows(dsn: str, name: str, *variables: str) -> list[dict]:
    """Run one query file with psql -f, as an analyst would, and return its rows as dicts of text."""
    args = [str(find_bindir() / "psql"), "-X", "-q", "-A", "-F", "|", "-P", "footer=off",
            "-v", "ON_ERROR_STOP=1"]
    for v in variables:
        args += ["-v", v]
    res = subprocess.run(args + ["-d", dsn, "-f", str(Q / name)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    if not lines:
        return []
    header = lines[0].split("|")
    return [dict(zip(header, ln.split("|"))) for ln in lines[1:]]


def pick(rows: list[dict], *cols: str) -> list[tuple]:
    return [tuple(r[c] for c in cols) for r in rows]


def as_psql_reads(path: Path) -> str:
    """The file with each \\ir line replaced by the file it includes (relative to the including file)."""
    return "\n".join(as_psql_reads(path.parent / ln[4:].strip()) if ln.startswith("\\ir ") else ln
                     for ln in path.read_text().splitlines())


def test_analyst_query_files_are_parameterised_by_tenant_and_window():
    """Every 3xx file reads :'tenant', :'from' and :'to' and gives each a default."""
    for path in sorted(Q.glob("3*.sql")):
        # psql's \ir pulls the shared defaults in; read the file as psql does.
        text = as_psql_reads(path)
        for var in ("tenant", "from", "to", "days"):
            assert f"\\if :{{?{var}}}" in text, (path.name, var)
        assert ":'tenant'" in text and ":'from'" in text and ":'to'" in text, path.name


def test_problem_overview_counts_runs_per_problem_for_one_tenant(pg, scenario_db):
    """A run listing a code twice counts once; the share is of all the tenant's runs in the window."""
    rows = psql_rows(pg.dsn(scenario_db), "300_problem_overview.sql", "tenant=acme", *WINDOW)
    assert pick(rows, "problem_code", "runs", "days_reported", "first_day", "last_day", "pct_of_runs") == [
        ("CSP_FRAME_ANCESTORS", "3", "3", "2025-03-01", "2025-03-06", "42.9"),
        ("OVERLAY_BLOCKING", "1", "1", "2025-03-03", "2025-03-03", "14.3"),
        ("XFO_DENY", "1", "1", "2025-03-01", "2025-03-01", "14.3"),
    ]


def test_problem_overview_without_tenant_covers_every_tenant(pg, scenario_db):
    """With tenant unset, every tenant's problems and runs count; runs outside the window do not."""
    rows = psql_rows(pg.dsn(scenario_db), "300_problem_overview.sql", *WINDOW)
    assert pick(rows, "problem_code", "runs", "pct_of_runs") == [
        ("CSP_FRAME_ANCESTORS", "3", "33.3"), ("MIXED_CONTENT", "1", "11.1"),
        ("OVERLAY_BLOCKING", "1", "11.1"), ("XFO_DENY", "1", "11.1"),
    ]


def test_fix_effectiveness_ranks_fixes_of_problems_reported_in_the_window(pg, scenario_db):
    """Fixes are ranked by successes within tenant and problem, with Tableau's confidence tiers."""
    rows = psql_rows(pg.dsn(scenario_db), "310_fix_effectiveness.sql", "tenant=acme", *WINDOW)
    assert pick(rows, "problem_code", "runs_in_window", "fix_code", "rank", "successes", "avg_confidence",
                "confidence_tier") == [
        ("CSP_FRAME_ANCESTORS", "3", "csp.add_frame_ancestors", "1", "4", "0.850", "High"),
        ("XFO_DENY", "1", "xfo.sameorigin_to_csp", "1", "2", "0.400", "Low"),
        ("XFO_DENY", "1", "xfo.remove_header", "2", "1", "0.600", "Medium"),
    ]


def test_fix_effectiveness_leaves_out_problems_not_reported_in_the_window(pg, scenario_db):
    """A window in which nothing was reported lists no fixes at all."""
    assert psql_rows(pg.dsn(scenario_db), "310_fix_effectiveness.sql", "from=2025-02-01", "to=2025-02-28") == []


def test_ttr_summary_covers_episodes_resolved_in_the_window(pg, scenario_db):
    """Per problem and overall: episode count, mean and max whole days, median and p90 hours."""
    rows = psql_rows(pg.dsn(scenario_db), "320_ttr_summary.sql", "tenant=acme", *WINDOW)
    assert pick(rows, "problem_code", "episodes", "avg_ttr_days", "max_ttr_days", "median_ttr_hours",
                "p90_ttr_hours") == [
        ("CSP_FRAME_ANCESTORS", "2", "1.50", "3", "43.00", "67.80"),
        ("XFO_DENY", "1", "1.00", "1", "23.00", "23.00"),
        ("(all problems)", "3", "1.33", "3", "23.00", "63.80"),
    ]


def test_open_at_window_end_depends_on_where_the_window_ends(pg, scenario_db):
    """An episode counts as open when it started before the window's end and was not resolved by then."""
    dsn = pg.dsn(scenario_db)
    cols = ("tenant", "problem_code", "open_targets", "max_age_days", "started_in_window", "recurrences")
    assert pick(psql_rows(dsn, "330_open_at_window_end.sql", "from=2025-03-01", "to=2025-03-01"), *cols) == [
        ("acme", "CSP_FRAME_ANCESTORS", "1", "0", "1", "0"), ("acme", "XFO_DENY", "1", "0", "1", "0")]
    assert pick(psql_rows(dsn, "330_open_at_window_end.sql", "from=2025-03-02", "to=2025-03-02"), *cols) == [
        ("acme", "CSP_FRAME_ANCESTORS", "1", "1", "0", "0"), ("globex", "MIXED_CONTENT", "1", "0", "1", "0")]
    assert pick(psql_rows(dsn, "330_open_at_window_end.sql", *WINDOW), *cols) == [
        ("acme", "OVERLAY_BLOCKING", "1", "3", "1", "0")]


def test_tenant_health_window_gives_one_row_per_tenant(pg, scenario_db):
    """Runs, share with problems, problems, remediation and open problems are windowed; fix success is all-time."""
    rows = psql_rows(pg.dsn(scenario_db), "340_tenant_health_window.sql", *WINDOW)
    assert pick(rows, "tenant", "runs", "pct_runs_with_problems", "problems_reported", "episodes_resolved",
                "avg_ttr_days", "open_problems_at_end", "fix_success_rate_all_time") == [
        ("acme", "7", "57.1", "3", "3", "1.33", "1", "1.750"),
        ("globex", "2", "50.0", "1", "1", "1.00", "0", "1.000"),
    ]
    only = psql_rows(pg.dsn(scenario_db), "340_tenant_health_window.sql", "tenant=globex", *WINDOW)
    assert [r["tenant"] for r in only] == ["globex"]
    # open at the end of a window in the past counts problems resolved after it
    # (the same problems 330 lists for those windows)
    for day, want in (("2025-03-01", [("acme", "2"), ("globex", "0")]),
                      ("2025-03-02", [("acme", "1"), ("globex", "1")])):
        rows = psql_rows(pg.dsn(scenario_db), "340_tenant_health_window.sql", f"from={day}", f"to={day}")
        assert sorted(pick(rows, "tenant", "open_problems_at_end")) == want, day


def test_problem_recurrence_counts_episodes_after_the_first_on_a_target(pg, scenario_db):
    """CSP came back on target A after its fix: one of its two episodes is a recurrence."""
    rows = psql_rows(pg.dsn(scenario_db), "350_problem_recurrence.sql", *WINDOW)
    assert pick(rows, "problem_code", "episodes_started", "recurrences", "pct_recurrences", "targets") == [
        ("CSP_FRAME_ANCESTORS", "2", "1", "50.0", "1"),
        ("MIXED_CONTENT", "1", "0", "0.0", "1"),
        ("OVERLAY_BLOCKING", "1", "0", "0.0", "1"),
        ("XFO_DENY", "1", "0", "0.0", "1"),
    ]


def test_without_variables_the_window_is_the_last_30_utc_days(pg, fresh_db):
    """Run with no -v at all, a query covers every tenant over the last 30 UTC days; days=60 widens it."""
    dsn = pg.dsn(fresh_db)
    now = datetime.now(timezone.utc)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems) VALUES (%s, %s, %s, %s)",
            [(now - timedelta(minutes=1), "acme", "d" * 64, json.dumps(["ROUTE_404"])),
             (now - timedelta(days=40), "globex", "e" * 64, json.dumps(["ROUTE_404"]))])
        # psql reads the views in its own session: fold the runs before the commit.
        cur.execute("CALL devdiag.refresh_rollups()")
    assert pick(psql_rows(dsn, "300_problem_overview.sql"), "problem_code", "runs") == [("ROUTE_404", "1")]
    assert pick(psql_rows(dsn, "300_problem_overview.sql", "days=60"), "problem_code", "runs") == [
        ("ROUTE_404", "2")]
