"""Every file of sql/queries/ runs with psql -f, names its columns, shows the tenant and honours -v tenant;
the README's psql examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from devdiag_warehouse import sample_data
from devdiag_warehouse.localdb import find_bindir

ROOT = Path(__file__).resolve().parents[2]
QUERIES = sorted((ROOT / "sql" / "queries").glob("*.sql"))


def psql(dsn: str, path: Path, *variables: str) -> subprocess.CompletedProcess:
    args = [str(find_bindir() / "psql"), "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1"]
    for v in variables:
        args += ["-v", v]
    return subprocess.run(args + ["-d", dsn, "-f", str(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def sample_db(pg):
    """A clone holding the demo's deterministic sample (ending now)."""
    name = pg.clone()
    with psycopg.connect(pg.dsn(name)) as conn:
        gen = sample_data.Generated()
        sample_data.copy_to_pg(conn, sample_data.generate(5_000, 4, 40, seed=7, out=gen), gen)
    yield name
    pg.drop(name)


@pytest.mark.parametrize("path", QUERIES, ids=[p.name for p in QUERIES])
def test_query_file_runs_unchanged_with_psql(pg, sample_db, path):
    """Every file in sql/queries/ runs with psql -f and ON_ERROR_STOP against the schema."""
    res = psql(pg.dsn(sample_db), path, "tenant=acme", "days=30")
    assert res.returncode == 0, res.stderr
    assert "ERROR" not in res.stderr


def test_query_files_say_what_they_answer():
    """Each query file starts with a header line saying what it answers."""
    for path in QUERIES:
        assert path.read_text().startswith("-- Answers"), path.name


@pytest.mark.parametrize("tenant", ["", "acme"])
def test_recent_activity_lists_the_20_newest_runs_of_the_day_as_the_view_formats_them(pg, sample_db, tenant):
    """130 lists the 20 newest runs of the past 24 hours, newest first, with the problems v_recent_activity
    formats, for every tenant the login reads or for the one -v tenant names."""
    res = psql(pg.dsn(sample_db), ROOT / "sql/queries/130_recent_activity_24h.sql", f"tenant={tenant}")
    assert res.returncode == 0, res.stderr
    with psycopg.connect(pg.dsn(sample_db)) as conn:
        expected = conn.execute(
            "SELECT ra.tenant, ra.ts::text, coalesce(ra.preset, ''), ra.problem_count::text, ra.problems "
            "FROM devdiag.v_recent_activity AS ra "
            "WHERE ra.ts > now() - interval '24 hours' AND (%(t)s = '' OR ra.tenant = %(t)s) "
            "ORDER BY ra.ts DESC, ra.run_id DESC LIMIT 20", {"t": tenant}).fetchall()
    got = [tuple(ln.split("|")) for ln in res.stdout.splitlines() if ln]
    assert len(expected) == 20
    assert got == [tuple(r) for r in expected]


def test_top_problems_lists_the_most_reported_problem_first(pg, sample_db):
    """The top-10 query ranks tenant and problem pairs by runs in the last 30 days, largest first."""
    res = psql(pg.dsn(sample_db), ROOT / "sql/queries/100_top_problems_30d.sql")
    rows = [ln.split("|") for ln in res.stdout.split()]
    counts = [int(c) for _, _, c in rows]
    assert rows and counts == sorted(counts, reverse=True)
    with psycopg.connect(pg.dsn(sample_db)) as conn:
        top = conn.execute(
            """SELECT d.tenant, p.code, count(DISTINCT d.id) FROM devdiag.diag_run d,
                      jsonb_array_elements_text(d.problems) p(code)
               WHERE (d.ts AT TIME ZONE 'UTC')::date >= (now() - interval '30 days')
               GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1""").fetchone()
    assert rows[0] == [top[0], top[1], str(top[2])]


def test_high_problem_rate_alert_fires_only_above_100_today(pg, fresh_db):
    """The high-problem-rate alert returns a tenant only past 100 problem runs today."""
    dsn = pg.dsn(fresh_db)
    alert = ROOT / "sql/queries/200_alert_high_problem_rate.sql"
    now = datetime.now(timezone.utc)
    with psycopg.connect(dsn) as conn:
        for tenant, n in (("quiet", 100), ("noisy", 101)):
            conn.execute(
                """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems)
                   SELECT %s, %s, md5(g::text), '["CSP_FRAME_ANCESTORS"]' FROM generate_series(1, %s) g""",
                (now, tenant, n))
        # psql reads the views in its own session: fold the runs before the commit.
        conn.execute("CALL devdiag.refresh_rollups()")
    res = psql(dsn, alert)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["noisy|101"]
    assert psql(dsn, alert, "tenant=noisy").stdout.split() == ["noisy|101"]
    assert psql(dsn, alert, "tenant=quiet").stdout.split() == []


def test_low_fix_success_alert_fires_on_low_confidence_with_support(pg, fresh_db):
    """The low-fix-success alert needs confidence < 0.5 and more than 10 successes."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """INSERT INTO devdiag.fix_outcome (tenant, problem_code, fix_code, confidence, support, env_fp)
               VALUES ('t', 'XFO_DENY', 'bad_fix', 0.3, 11, 'e1'),
                      ('t', 'XFO_DENY', 'few_fix', 0.3, 10, 'e1'),
                      ('t', 'XFO_DENY', 'good_fix', 0.9, 50, 'e1')""")
        # psql reads the views in its own session: fold the fix outcomes before the commit.
        conn.execute("CALL devdiag.refresh_rollups()")
    res = psql(dsn, ROOT / "sql/queries/210_alert_low_fix_success.sql")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["t|XFO_DENY|bad_fix|11|0.3"]
    assert psql(dsn, ROOT / "sql/queries/210_alert_low_fix_success.sql", "tenant=other").stdout.split() == []


def test_ttr_distribution_counts_the_resolved_episodes_of_v_ttr_days(pg, sample_db):
    """The TTR distribution (read from the histogram rollup) equals a count of v_ttr_days per ttr_days."""
    res = psql(pg.dsn(sample_db), ROOT / "sql/queries/120_ttr_distribution.sql")
    assert res.returncode == 0, res.stderr
    got = [(t, int(d), int(n)) for t, d, n in (ln.split("|") for ln in res.stdout.split())]
    with psycopg.connect(pg.dsn(sample_db)) as conn:
        want = conn.execute(
            "SELECT tenant, ttr_days, count(*) FROM devdiag.v_ttr_days GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    assert got == [tuple(r) for r in want]
    assert len(got) > 1


# Names PostgreSQL gives a column the query did not name (the function's or "?column?").
DEFAULT_NAMES = {"?column?", "round", "sum", "count", "avg", "min", "max", "coalesce", "nullif", "jsonb_array_length",
                 "percentile_cont", "string_agg", "array_agg", "case", "to_char", "extract", "date_trunc"}


def header_and_rows(dsn: str, path: Path, *variables: str) -> tuple[list[str], list[dict]]:
    """Run a file with psql and its column headers; return the header and the rows as dicts of text."""
    args = [str(find_bindir() / "psql"), "-X", "-q", "-A", "-F", "|", "-P", "footer=off", "-v", "ON_ERROR_STOP=1"]
    for v in variables:
        args += ["-v", v]
    res = subprocess.run(args + ["-d", dsn, "-f", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    header = lines[0].split("|")
    return header, [dict(zip(header, ln.split("|"))) for ln in lines[1:]]


@pytest.mark.parametrize("path", QUERIES, ids=[p.name for p in QUERIES])
def test_query_file_names_every_column_and_shows_the_tenant(pg, sample_db, path):
    """Each result column has a name of its own (none left as round, sum, ?column? ...) and one is the tenant."""
    header, _rows = header_and_rows(pg.dsn(sample_db), path)
    assert [c for c in header if c in DEFAULT_NAMES] == [], header
    assert len(set(header)) == len(header), header
    # 350 answers for the tenants chosen; every other file names the tenant of each row
    assert "tenant" in header or path.name.startswith("3"), header


# The alerts (2xx) return no rows on the sample: their own tests below narrow them.
NON_ALERTS = [p for p in QUERIES if not p.name.startswith("2")]


@pytest.mark.parametrize("path", NON_ALERTS, ids=[p.name for p in NON_ALERTS])
def test_query_file_honours_the_tenant_variable(pg, sample_db, path):
    """With -v tenant=X only X's rows come back; without it, rows of every tenant the login reads."""
    dsn = pg.dsn(sample_db)
    header, everyone = header_and_rows(dsn, path, "days=30")
    if "tenant" not in header:  # 300, 320, 350: totals over the tenants chosen
        _h, one = header_and_rows(dsn, path, "days=30", "tenant=globex")
        assert everyone and one and one != everyone
        return
    assert len({r["tenant"] for r in everyone}) > 1, path.name
    _h, one = header_and_rows(dsn, path, "days=30", "tenant=globex")
    assert one and {r["tenant"] for r in one} == {"globex"}


def readme_psql_examples() -> list[str]:
    """The psql command lines of docs/ANALYSTS.md, as written there."""
    text = (ROOT / "docs" / "ANALYSTS.md").read_text()
    return [ln.strip() for ln in text.splitlines() if ln.strip().startswith('psql "$DSN"')]


def run_shell(line: str, dsn: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DSN=dsn, PATH=f"{find_bindir()}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True)


def test_readme_psql_examples_return_rows_on_the_demo_sample_without_a_set_line(pg, sample_db):
    """Each psql line of the README runs as written on the demo's sample: exit 0, rows, no stray SET output."""
    examples = readme_psql_examples()
    assert len(examples) >= 2
    for line in examples:
        assert "-q" in line.split() and "ON_ERROR_STOP=1" in line, line
        res = run_shell(line, pg.dsn(sample_db))
        assert res.returncode == 0, (line, res.stderr)
        out = res.stdout.splitlines()
        assert "SET" not in out, line
        rows = re.search(r"\((\d+) rows?\)", res.stdout)
        assert rows and int(rows.group(1)) > 0, (line, res.stdout)


def test_readme_psql_example_with_a_bad_date_stops_at_one_error_and_exits_non_zero(pg, sample_db):
    """A date that does not exist gives one error, no results, and a non-zero exit status."""
    line = readme_psql_examples()[0].replace(" -f ", " -v from=2025-02-30 -f ", 1)
    res = run_shell(line, pg.dsn(sample_db))
    assert res.returncode != 0
    assert len([ln for ln in res.stderr.splitlines() if "ERROR:" in ln]) == 1, res.stderr
    assert "2025-02-30" in res.stderr
    assert res.stdout.strip() == ""
