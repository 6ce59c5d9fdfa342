"""The original guide's validation and alert queries run unchanged with psql -f."""

from __future__ import annotations

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


def test_top_problems_lists_the_most_reported_problem_first(pg, sample_db):
    """The top-10 query ranks problems by runs in the last 30 days, largest first."""
    res = psql(pg.dsn(sample_db), ROOT / "sql/queries/100_top_problems_30d.sql")
    rows = [ln.split("|") for ln in res.stdout.split()]
    counts = [int(c) for _, c in rows]
    assert rows and counts == sorted(counts, reverse=True)
    with psycopg.connect(pg.dsn(sample_db)) as conn:
        top = conn.execute(
            """SELECT p.code, count(DISTINCT d.id) FROM devdiag.diag_run d,
                      jsonb_array_elements_text(d.problems) p(code)
               WHERE (d.ts AT TIME ZONE 'UTC')::date >= (now() - interval '30 days')
               GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""").fetchone()
    assert int(rows[0][1]) == top[1]


def test_high_problem_rate_alert_fires_only_above_100_today(pg, fresh_db):
    """The guide's high-problem-rate alert returns a tenant only past 100 problem runs today."""
    dsn = pg.dsn(fresh_db)
    alert = ROOT / "sql/queries/200_alert_high_problem_rate.sql"
    now = datetime.now(timezone.utc)
    with psycopg.connect(dsn) as conn:
        for tenant, n in (("quiet", 100), ("noisy", 101)):
            conn.execute(
                """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems)
                   SELECT %s, %s, md5(g::text), '["CSP_FRAME_ANCESTORS"]' FROM generate_series(1, %s) g""",
                (now, tenant, n))
    res = psql(dsn, alert)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["noisy|101"]


def test_low_fix_success_alert_fires_on_low_confidence_with_support(pg, fresh_db):
    """The guide's low-fix-success alert needs confidence < 0.5 and more than 10 successes."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """INSERT INTO devdiag.fix_outcome (tenant, problem_code, fix_code, confidence, support, env_fp)
               VALUES ('t', 'XFO_DENY', 'bad_fix', 0.3, 11, 'e1'),
                      ('t', 'XFO_DENY', 'few_fix', 0.3, 10, 'e1'),
                      ('t', 'XFO_DENY', 'good_fix', 0.9, 50, 'e1')""")
    res = psql(dsn, ROOT / "sql/queries/210_alert_low_fix_success.sql")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["XFO_DENY|bad_fix|0.3"]


def test_ttr_distribution_counts_the_resolved_episodes_of_v_ttr_days(pg, sample_db):
    """The TTR distribution (read from the histogram rollup) equals a count of v_ttr_days per ttr_days."""
    res = psql(pg.dsn(sample_db), ROOT / "sql/queries/120_ttr_distribution.sql")
    assert res.returncode == 0, res.stderr
    got = [tuple(int(v) for v in ln.split("|")) for ln in res.stdout.split()]
    with psycopg.connect(pg.dsn(sample_db)) as conn:
        want = conn.execute("SELECT ttr_days, count(*) FROM devdiag.v_ttr_days GROUP BY 1 ORDER BY 1").fetchall()
    assert got == [tuple(r) for r in want]
    assert len(got) > 1
