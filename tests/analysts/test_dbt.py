"""make dbt: the dbt project builds against the warehouse, its marts equal the contract views, every
column is described, and source freshness tells stale runs from fresh ones.

dbt lives in its own venv (``make dbt-venv``, which .ci/run runs); where it is
not installed the dbt tests are skipped, saying so.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from devdiag_warehouse import dbt_build, sample_data
from tests.commands import command as devdiag_command

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "dbt_check"
needs_dbt = pytest.mark.skipif(
    dbt_build.find_dbt() is None,
    reason="dbt is not installed: `make dbt-venv` installs dbt-core<1.12 and dbt-postgres into .venv-dbt")

# mart -> (contract view, columns compared; floats rounded to 12 decimals)
MARTS = {
    "fct_problem_counts": ("v_problem_counts", "day, tenant, problem_code, runs"),
    "fct_fix_success": ("v_fix_success", "tenant, problem_code, fix_code, successes, "
                                          "round(avg_confidence::numeric, 12), last_success"),
    "fct_ttr": ("v_ttr_days", "tenant, problem_code, target_hash, first_seen_day, first_zero_day, ttr_days, "
                              "ttr_hours, started_at, resolved_at, preset"),
}


def run_dbt(dsn: str, tmp: Path, *args: str, command: str = "build") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*devdiag_command("dbt"), "--dsn", dsn, "--schema", SCHEMA,
         "--command", command, "--", "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
         *args],
        capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built(pg, tmp_path_factory, scenario_loader, history_loader):
    """A clone with the scenario, a generated history partly moved to the archive, and dbt build run on it."""
    name = pg.clone()
    dsn = pg.dsn(name)
    with psycopg.connect(dsn) as conn:
        scenario_loader(conn)
        gen = sample_data.Generated()
        now = int(datetime(2025, 5, 31, tzinfo=timezone.utc).timestamp())
        history_loader(conn, sample_data.generate(2_000, 3, 30, seed=3, now=now, out=gen), gen)
        # Archived runs must count exactly like live ones.
        conn.execute("""
            WITH moved AS (
                DELETE FROM devdiag.diag_run WHERE ts < '2025-05-10' RETURNING id, ts, tenant, target_hash,
                    env_fp, problems, evidence, preset)
            INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, env_fp, problems, evidence, preset)
            SELECT id, ts, tenant, target_hash, env_fp, problems, evidence, preset FROM moved""")
        # The move is written by hand (DELETE, INSERT of runs already folded): recompute the rollups
        # from the runs as they now are, so the views count every run once, live or archived.
        conn.execute("SELECT devdiag.rollup_rebuild()")
    tmp = tmp_path_factory.mktemp("dbt")
    res = None
    if dbt_build.find_dbt():
        res = run_dbt(dsn, tmp)
    yield dsn, tmp, res
    pg.drop(name)


@needs_dbt
def test_dbt_build_succeeds_with_all_schema_tests(built):
    """dbt build creates the staging views and marts and every data test passes, mart-equals-view ones included."""
    _dsn, _tmp, res = built
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "ERROR=0" in res.stdout and "assert_fct_problem_counts_equals_view" in res.stdout


@needs_dbt
@pytest.mark.parametrize("mart", sorted(MARTS))
def test_mart_equals_its_contract_view(built, mart):
    """Each mart holds exactly the rows of its view (as a multiset), and the data is not trivially empty."""
    dsn, _tmp, res = built
    assert res.returncode == 0
    view, cols = MARTS[mart]
    with psycopg.connect(dsn) as conn:
        mart_rows = sorted(conn.execute(f"SELECT {cols} FROM {SCHEMA}.{mart}").fetchall(), key=repr)
        view_rows = sorted(conn.execute(f"SELECT {cols} FROM devdiag.{view}").fetchall(), key=repr)
        archived = conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone()[0]
    assert archived > 0
    assert len(view_rows) > 10
    assert mart_rows == view_rows


@needs_dbt
def test_staging_views_run_with_the_readers_rights(built):
    """dbt's staging views are security_invoker, so they never bypass row-level security."""
    dsn, _tmp, res = built
    assert res.returncode == 0
    with psycopg.connect(dsn) as conn:
        opts = dict(conn.execute(
            """SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind = 'v' ORDER BY 1""", (SCHEMA,)).fetchall())
    assert opts == {"stg_diag_run": ["security_invoker=true"], "stg_fix_outcome": ["security_invoker=true"]}


@needs_dbt
def test_equality_test_fails_once_a_mart_is_stale(built):
    """A run ingested after the build makes the mart differ from the view, and dbt test reports it."""
    dsn, tmp, res = built
    assert res.returncode == 0
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems) VALUES (%s, 'acme', %s, %s)",
            (datetime(2025, 3, 9, tzinfo=timezone.utc), "f" * 64, json.dumps(["ROUTE_404"])))
        # dbt reads the view in its own session: fold the run before the commit.
        conn.execute("CALL devdiag.refresh_rollups()")
    try:
        stale = run_dbt(dsn, tmp, "--select", "assert_fct_problem_counts_equals_view", command="test")
        assert stale.returncode != 0
        assert "FAIL 1 assert_fct_problem_counts_equals_view" in stale.stdout  # the day the mart lacks
    finally:
        with psycopg.connect(dsn) as conn:
            conn.execute("DELETE FROM devdiag.diag_run WHERE target_hash = %s", ("f" * 64,))
            # An owner's DELETE is not folded by a refresh: recompute the rollups from the runs left, so the
            # other tests of the module see the build's data again.
            conn.execute("SELECT devdiag.rollup_rebuild()")


def test_dbt_refuses_to_build_into_the_migration_owned_schema(pg, scenario_db):
    """devdiag belongs to make migrate; dbt output goes to a schema of its own."""
    res = subprocess.run([*devdiag_command("dbt"), "--dsn", pg.dsn(scenario_db),
                          "--schema", "devdiag"], capture_output=True, text=True)
    assert res.returncode == 2 and "refusing" in res.stderr


@needs_dbt
def test_every_model_and_column_carries_its_description_in_the_catalog(built):
    """Each staging view and mart, and each of their columns, has a non-empty COMMENT from its schema.yml."""
    dsn, _tmp, res = built
    assert res.returncode == 0
    with psycopg.connect(dsn) as conn:
        rels = conn.execute(
            """SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'v') ORDER BY 1""", (SCHEMA,)).fetchall()
        cols = conn.execute(
            """SELECT c.relname, a.attname, col_description(c.oid, a.attnum) FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               WHERE n.nspname = %s AND c.relkind IN ('r', 'v') ORDER BY 1, a.attnum""", (SCHEMA,)).fetchall()
    assert sorted(r for r, _ in rels) == sorted(["stg_diag_run", "stg_fix_outcome", *MARTS])
    assert [r for r, d in rels if not (d or "").strip()] == []
    assert len(cols) >= 38
    assert [f"{r}.{c}" for r, c, d in cols if not (d or "").strip()] == []


@needs_dbt
def test_source_freshness_fails_on_stale_runs_and_passes_once_runs_arrive(built):
    """dbt source freshness errors when the newest run is days old, and passes after a run and a fix credit now."""
    dsn, tmp, res = built
    assert res.returncode == 0
    stale = run_dbt(dsn, tmp, command="freshness")
    assert stale.returncode != 0, stale.stdout[-3000:]
    assert "ERROR STALE freshness of devdiag.diag_run" in stale.stdout, stale.stdout[-3000:]
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems) "
                         "VALUES (now(), 'acme', %s, '[]')", ("e" * 64,))
            conn.execute("INSERT INTO devdiag.fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, "
                         "env_fp) VALUES (now(), 'acme', 'FRESHNESS_PROBE', 'probe', 0.5, 1, 'e1')")
        fresh = run_dbt(dsn, tmp, command="freshness")
        assert fresh.returncode == 0, fresh.stdout[-3000:]
        assert "PASS freshness of devdiag.diag_run" in fresh.stdout
        assert "PASS freshness of devdiag.fix_outcome" in fresh.stdout
    finally:
        with psycopg.connect(dsn) as conn:
            conn.execute("DELETE FROM devdiag.diag_run WHERE target_hash = %s", ("e" * 64,))
            conn.execute("DELETE FROM devdiag.fix_outcome WHERE problem_code = 'FRESHNESS_PROBE'")
