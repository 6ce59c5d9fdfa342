"""make migrate under kills, hostile logins and busy readers: it never half-applies
and never waits without limit."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time

import psycopg
import pytest
from psycopg import sql

from devdiag_warehouse import migrate as migrate_mod
from devdiag_warehouse.config import DevdiagError
from devdiag_warehouse.migrate import Migrator
from tests.commands import command

SNAPSHOT = {
    "relations": """SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname LIKE 'devdiag%' AND c.relkind <> 'S'""",
    "columns": """SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
                  FROM information_schema.columns WHERE table_schema = 'devdiag'""",
    "constraints": """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.convalidated
                      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                      WHERE n.nspname = 'devdiag'""",
    "indexes": """SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid FROM pg_index i
                  JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'devdiag'""",
    "functions": """SELECT p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)) FROM pg_proc p
                    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'devdiag' AND p.prokind <> 'a'""",
    "views": """SELECT c.relname, md5(pg_get_viewdef(c.oid)) FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'devdiag' AND c.relkind = 'v'""",
    "policies": """SELECT polrelid::regclass::text, polname, pg_get_expr(polqual, polrelid) FROM pg_policy""",
    "triggers": """SELECT tgrelid::regclass::text, pg_get_triggerdef(t.oid) FROM pg_trigger t
                   WHERE NOT tgisinternal""",
    "grants": """SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
                 WHERE table_schema = 'devdiag'""",
    "steps": "SELECT migration_id FROM devdiag_meta._yoyo_migration",
}


def snapshot(dsn: str) -> dict[str, list]:
    with psycopg.connect(dsn) as conn:
        return {k: sorted(map(tuple, conn.execute(q).fetchall()), key=repr) for k, q in SNAPSHOT.items()}


def empty_database(pg, name: str) -> str:
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER devdiag").format(sql.Identifier(name)))
    return pg.dsn(name)


def drop_database(pg, name: str) -> None:
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def end_sessions(pg, name: str) -> None:
    """What the server does when it notices a killed client: its sessions end, open transactions roll back."""
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                     "AND pid <> pg_backend_pid()", (name,))


def migrate_cli(dsn: str) -> list[str]:
    return [*command("migrate"), "apply", "--dsn", dsn]


@pytest.mark.slow
def test_migrate_killed_at_many_points_then_rerun_reaches_the_clean_schema(pg):
    """kill -9 at spread-out moments, each run resuming the last: the final schema equals a clean run's."""
    env = {**os.environ, "DEVDIAG_CONFIG": "/nonexistent/devdiag.yaml"}
    clean_dsn = empty_database(pg, "kill_clean")
    started = time.monotonic()
    subprocess.run(migrate_cli(clean_dsn), env=env, check=True, capture_output=True, timeout=600)
    full = time.monotonic() - started
    want = snapshot(clean_dsn)
    drop_database(pg, "kill_clean")

    dsn = empty_database(pg, "kill_target")
    try:
        kills = 0
        # Twelve kills at moments spread over a clean run's length; each run resumes the previous one.
        for i in range(12):
            proc = subprocess.Popen(migrate_cli(dsn), env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(full * (0.1 + 0.8 * ((i * 7) % 12) / 12) / 3)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait()
            end_sessions(pg, "kill_target")
        assert kills >= 6, "migrate finished before most kills: the test did not interrupt it"
        res = subprocess.run(migrate_cli(dsn), env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout + res.stderr
        assert snapshot(dsn) == want
    finally:
        drop_database(pg, "kill_target")


def test_a_hostile_login_cannot_stall_migrate(pg, fresh_db):
    """A login outside the warehouse can neither take migrate's lock nor make it wait (advisory keys no longer count)."""
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS mallory")
        conn.execute("CREATE ROLE mallory LOGIN")
    try:
        with psycopg.connect(pg.dsn(fresh_db, "mallory"), autocommit=True) as evil:
            for key in (7_236_111_001, 72_364_004):
                evil.execute("SELECT pg_advisory_lock(%s)", (key,))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                evil.execute("SELECT FROM devdiag_meta.migrate_lock FOR UPDATE")
            started = time.monotonic()
            out = io.StringIO()
            with Migrator(pg.dsn(fresh_db), out=out, lock_wait=10) as m:
                m.apply()
            assert time.monotonic() - started < 10
    finally:
        with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY mallory"))
            conn.execute("DROP ROLE IF EXISTS mallory")


def test_a_second_migrate_gives_up_after_the_lock_wait_naming_the_holder(pg, fresh_db):
    """While one run holds the migrate lock, another waits --lock-wait seconds, then says who holds it."""
    with Migrator(pg.dsn(fresh_db), out=io.StringIO()):
        started = time.monotonic()
        with pytest.raises(DevdiagError, match=r"another migrate run \(pid \d+, user devdiag\)"):
            with Migrator(pg.dsn(fresh_db), out=io.StringIO(), lock_wait=1):
                pass
        assert 1 <= time.monotonic() - started < 5


def test_migrate_with_nothing_to_do_does_not_wait_for_readers(pg, fresh_db):
    """A reader inside a long transaction on a view does not hold up a migrate that has nothing to change."""
    with psycopg.connect(pg.dsn(fresh_db)) as reader:
        reader.execute("SELECT * FROM devdiag.v_problem_counts LIMIT 1").fetchall()  # keeps its lock
        result: list = []
        t = threading.Thread(target=lambda: result.append(run_apply(pg.dsn(fresh_db))))
        t.start()
        t.join(30)
        assert not t.is_alive(), "migrate queued behind a reader with nothing to apply"
        assert "sql/ unchanged" in result[0]
        reader.rollback()


def run_apply(dsn: str) -> str:
    out = io.StringIO()
    with Migrator(dsn, out=out) as m:
        m.apply()
    return out.getvalue()


def test_reapplying_sql_behind_a_reader_retries_then_fails_cleanly(pg, fresh_db, monkeypatch):
    """Re-applying sql/ under a lock timeout retries, then stops with one message and changes nothing."""
    monkeypatch.setattr(migrate_mod, "REAPPLY_LOCK_TIMEOUT_MS", 200)
    monkeypatch.setattr(migrate_mod, "REAPPLY_ATTEMPTS", 2)
    with psycopg.connect(pg.dsn(fresh_db)) as reader:
        reader.execute("SELECT * FROM devdiag.v_problem_counts LIMIT 1").fetchall()
        out = io.StringIO()
        with pytest.raises(DevdiagError, match="could not re-apply sql/"):
            with Migrator(pg.dsn(fresh_db), out=out) as m:
                m.reapply()
        assert "retrying (1/2)" in out.getvalue()
        reader.rollback()
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        assert conn.execute("SELECT to_regclass('devdiag.v_problem_counts')").fetchone()[0] is not None
    with Migrator(pg.dsn(fresh_db), out=io.StringIO()) as m:
        m.reapply()
