"""Retention: whole UTC days past retention_days move to the archive without changing any analytics result."""

from __future__ import annotations

import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from tests.commands import command

ROOT = Path(__file__).resolve().parents[2]


def utc(days_ago: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days_ago)


def before_day(days: int) -> str:
    """SQL for the start of the UTC day of now() minus ``days``: runs before it belong to days that ended."""
    return f"date_trunc('day', now() - interval '{days} days', 'UTC')"


def counts(conn) -> tuple[int, int]:
    live = conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0]
    arch = conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone()[0]
    return live, arch


def test_archive_has_every_run_column_plus_archived_at(db):
    """diag_run_archive carries every column of diag_run (same type) plus archived_at."""
    q = """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_schema = 'devdiag' AND table_name = %s"""
    live = set(db.execute(q, ("diag_run",)).fetchall())
    arch = set(db.execute(q, ("diag_run_archive",)).fetchall())
    assert live <= arch
    assert arch - live == {("archived_at", "timestamp with time zone")}


def test_archiving_moves_old_runs_and_keeps_every_column(pg, history_db):
    """Runs of UTC days that ended retention_days ago move with every column intact; newer ones stay live."""
    with psycopg.connect(pg.dsn(history_db), autocommit=True) as conn:
        before = {r[0]: r[1] for r in conn.execute(
            f"SELECT id, to_jsonb(d) FROM devdiag.diag_run d WHERE ts < {before_day(180)}")}
        total = sum(counts(conn))
        conn.execute("CALL devdiag.run_retention(250)")
        after = {r[0]: r[1] for r in conn.execute(
            "SELECT id, to_jsonb(a) - 'archived_at' FROM devdiag.diag_run_archive a")}
        assert before and after == before
        assert sum(counts(conn)) == total
        assert conn.execute(
            f"SELECT count(*) FROM devdiag.diag_run WHERE ts < {before_day(180)}").fetchone()[0] == 0
        # the day that ends less than retention_days ago stays live, whole
        assert conn.execute(
            f"SELECT count(*) FROM devdiag.diag_run_archive WHERE ts >= {before_day(180)}").fetchone()[0] == 0
        log = conn.execute("SELECT rows_archived FROM devdiag.job_log WHERE job = 'retention'").fetchall()
        assert log == [(len(before),)]


def test_archiving_never_changes_an_analytics_result(pg, history_db, view_snapshot):
    """Every contract view returns the same rows before and after the archive move."""
    with psycopg.connect(pg.dsn(history_db), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'Asia/Kolkata'")
        before = view_snapshot(conn)
        conn.execute("UPDATE devdiag.settings SET value = '20' WHERE key = 'retention_days'")
        conn.execute("CALL devdiag.run_retention()")
        live, arch = counts(conn)
        assert arch > live  # most of the history moved
        assert view_snapshot(conn) == before


def test_retention_days_is_read_at_run_time(pg, history_db):
    """Changing settings.retention_days changes what the next run moves, without redeploy."""
    with psycopg.connect(pg.dsn(history_db), autocommit=True) as conn:
        conn.execute("UPDATE devdiag.settings SET value = '250' WHERE key = 'retention_days'")
        conn.execute("CALL devdiag.run_retention()")
        assert conn.execute(f"SELECT max(ts) < {before_day(250)} FROM devdiag.diag_run_archive"
                            ).fetchone()[0] in (True, None)
        n250 = counts(conn)[1]
        conn.execute("UPDATE devdiag.settings SET value = '100' WHERE key = 'retention_days'")
        conn.execute("CALL devdiag.run_retention()")
        assert counts(conn)[1] > n250


def test_two_concurrent_archive_jobs_neither_lose_nor_duplicate(pg, history_db):
    """Two retention jobs at once move disjoint rows: the total stays, no id is in both tables."""
    dsn = pg.dsn(history_db)
    with psycopg.connect(dsn, autocommit=True) as conn:
        total = sum(counts(conn))
        conn.execute("UPDATE devdiag.settings SET value = '10' WHERE key = 'retention_days'")
    errors: list[BaseException] = []

    def job():
        try:
            with psycopg.connect(dsn, autocommit=True) as c:
                c.execute("CALL devdiag.run_retention(50)")
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n\n".join(map(str, errors))
    with psycopg.connect(dsn) as conn:
        assert sum(counts(conn)) == total
        both = conn.execute("""SELECT count(*) FROM devdiag.diag_run d
                               JOIN devdiag.diag_run_archive a USING (tenant, id)""").fetchone()[0]
        assert both == 0
        assert conn.execute(f"SELECT count(*) FROM devdiag.diag_run WHERE ts < {before_day(10)}"
                            ).fetchone()[0] == 0


def test_an_interrupted_batch_leaves_every_run_where_it_was(pg, history_db):
    """A batch killed before commit (backend terminated) moves nothing: no loss, no duplicate."""
    dsn = pg.dsn(history_db)
    with psycopg.connect(dsn, autocommit=True) as admin:
        before = counts(admin)
        victim = psycopg.connect(dsn)
        pid = victim.info.backend_pid
        moved = victim.execute("SELECT devdiag.archive_run_days(5)").fetchone()[0]
        assert moved > 0
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError):
            victim.commit()
        assert counts(admin) == before


def test_purge_is_off_by_default(pg, history_db):
    """Without archive_purge_days the archive keeps everything forever."""
    with psycopg.connect(pg.dsn(history_db), autocommit=True) as conn:
        conn.execute("CALL devdiag.run_retention()")
        archived = counts(conn)[1]
        assert archived > 0
        assert conn.execute("SELECT devdiag.purge_archive_days()").fetchone()[0] == 0
        assert counts(conn)[1] == archived


def test_purge_removes_old_runs_from_every_view_consistently(pg, history_db):
    """With archive_purge_days set, old archived runs and stale fix outcomes leave every view alike."""
    with psycopg.connect(pg.dsn(history_db), autocommit=True) as conn:
        conn.execute("UPDATE devdiag.settings SET value = '30' WHERE key = 'retention_days'")
        conn.execute("UPDATE devdiag.settings SET value = '200' WHERE key = 'archive_purge_days'")
        conn.execute("CALL devdiag.run_retention(400)")
        assert conn.execute(f"SELECT count(*) FROM devdiag.diag_run_archive WHERE ts < {before_day(200)}"
                            ).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM devdiag.fix_outcome WHERE ts < now() - interval '200 days'"
                            ).fetchone()[0] == 0
        purged = conn.execute("SELECT rows_purged FROM devdiag.job_log").fetchone()[0]
        assert purged > 0
        # Views agree with a recomputation over what is left.
        got = conn.execute("SELECT coalesce(sum(runs), 0) FROM devdiag.v_problem_counts").fetchone()[0]
        want = conn.execute("""SELECT count(*) FROM (SELECT DISTINCT r.tenant, r.id, p.code
                               FROM devdiag.v_run_all r, jsonb_array_elements_text(r.problems) p(code)) x"""
                            ).fetchone()[0]
        assert got == want
        assert conn.execute("SELECT min(first_seen_day) >= (now() - interval '201 days')::date FROM devdiag.v_ttr_days"
                            ).fetchone()[0]


def test_fix_outcomes_age_by_last_credit_not_first(pg, fresh_db):
    """A fix outcome credited recently survives the purge even if first learned long ago."""
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        conn.execute("UPDATE devdiag.settings SET value = '90' WHERE key = 'archive_purge_days'")
        conn.execute(
            """INSERT INTO devdiag.fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes)
               VALUES (%s, 't', 'XFO_DENY', 'recent', 0.9, 40, 'e', 'first learned 400 days ago'),
                      (%s, 't', 'XFO_DENY', 'stale', 0.9, 40, 'e', NULL)""", (utc(1), utc(120)))
        conn.execute("CALL devdiag.run_retention()")
        assert [r[0] for r in conn.execute("SELECT fix_code FROM devdiag.fix_outcome")] == ["recent"]


def test_make_retention_script_reports_what_it_moved(pg, history_db):
    """devdiag-retention runs the job on the given DSN and prints the counts."""
    res = subprocess.run([*command("retention"), "--dsn", pg.dsn(history_db),
                          "--batch", "300"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("retention: archived ") and " 0 run(s)" in res.stdout
    assert int(res.stdout.split()[2]) > 0


def test_make_retention_on_an_unmigrated_database_says_so(pg):
    """On a database without the schema the script prints one clear line and exits non-zero."""
    res = subprocess.run([*command("retention"), "--dsn", pg.dsn("postgres")],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert "make migrate" in res.stderr and "Traceback" not in res.stderr
