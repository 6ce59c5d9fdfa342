"""make migrate / make rollback behaviour, as the non-superuser owner."""

from __future__ import annotations

import io
import shutil
import threading

import psycopg
import pytest

from devdiag_warehouse import migrate as migrate_mod
from devdiag_warehouse.config import DevdiagError
from devdiag_warehouse.migrate import Migrator
from tests.commands import command, error_lines



def run(dsn: str, command: str = "apply", **kw) -> str:
    out = io.StringIO()
    with Migrator(dsn, out=out) as m:
        getattr(m, command)(**kw)
    return out.getvalue()


def views(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute(
            "SELECT viewname FROM pg_views WHERE schemaname = 'devdiag' ORDER BY 1")]


def test_owner_is_not_superuser(pg, fresh_db):
    """The migrating role is what managed services give a DBA: no superuser."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)


def test_second_migrate_is_a_noop(pg, fresh_db):
    """A migrate with nothing pending and sql/ unchanged applies no step and re-creates nothing."""
    dsn = pg.dsn(fresh_db)
    before = views(dsn)
    run(dsn)
    out = run(dsn)
    assert "no pending migrations" in out
    assert "sql/ unchanged" in out and "re-applied" not in out
    assert views(dsn) == before


def test_migrate_reapplies_sql_when_a_view_was_dropped_by_hand(pg, fresh_db):
    """sql/ is re-applied when what it made is missing from the catalog, though no file changed."""
    dsn = pg.dsn(fresh_db)
    run(dsn)
    with psycopg.connect(dsn) as conn:
        conn.execute("SET ROLE devdiag_owner")
        conn.execute("DROP VIEW devdiag.v_recent_activity")
    assert "re-applied" in run(dsn)
    assert "v_recent_activity" in views(dsn)


def test_yoyo_bookkeeping_lives_outside_devdiag(pg, fresh_db):
    """yoyo's tables are in devdiag_meta, never in the warehouse schema."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        rows = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name LIKE '%yoyo%'").fetchall()
    assert rows and {r[0] for r in rows} == {"devdiag_meta"}


def test_rollback_all_then_apply_each_step_round_trips(pg, fresh_db):
    """Rolling back to empty, then apply / rollback / apply over every step, succeeds."""
    dsn = pg.dsn(fresh_db)
    run(dsn, "rollback", all_steps=True)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'devdiag'").fetchone() is None
    from yoyo import read_migrations

    steps = [m.id for m in read_migrations(str(migrate_mod.MIGRATIONS_DIR))]
    with Migrator(dsn, out=io.StringIO()) as m:
        backend = m.backend()
        migrations = m.migrations()
        for i, step in enumerate(steps):
            one = migrations.__class__([x for x in migrations if x.id == step])
            backend.apply_migrations_only(one)
            backend.rollback_migrations(one)
            backend.apply_migrations_only(one)
            assert len(m.applied_ids(backend, migrations)) == i + 1
    out = run(dsn)
    assert "re-applied" in out
    assert "v_ttr_days" in views(dsn)


def test_rollback_undoes_only_the_last_step(pg, fresh_db):
    """make rollback without --all undoes exactly one step and drops the views."""
    dsn = pg.dsn(fresh_db)
    out = run(dsn, "rollback")
    assert out.count("rolling back") == 1
    assert views(dsn) == []
    assert "applying" in run(dsn)
    assert "v_ttr_days" in views(dsn)


def test_edited_applied_migration_is_refused_naming_the_file(pg, fresh_db, tmp_path, monkeypatch):
    """An applied step whose file changed afterwards makes migrate refuse, naming it."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate_mod.MIGRATIONS_DIR, copy)
    monkeypatch.setattr(migrate_mod, "MIGRATIONS_DIR", copy)
    monkeypatch.setattr(migrate_mod, "ROOT", tmp_path)
    target = copy / "0001_baseline.sql"
    target.write_text(target.read_text() + "\n-- edited\n")
    with pytest.raises(DevdiagError, match="0001_baseline") as exc:
        run(pg.dsn(fresh_db))
    assert "migrations/0001_baseline.sql" in str(exc.value)


def test_concurrent_migrates_never_half_apply(pg, fresh_db):
    """Two migrate runs at once from empty both succeed and leave one complete schema."""
    dsn = pg.dsn(fresh_db)
    run(dsn, "rollback", all_steps=True)
    errors: list[BaseException] = []

    def go():
        try:
            run(dsn)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert "v_tenant_health" in views(dsn)
    assert "no pending migrations" in run(dsn, "apply")


def test_rollback_all_returns_the_database_to_empty(pg, fresh_db):
    """make rollback-all leaves neither the devdiag schema nor the devdiag_meta bookkeeping."""
    dsn = pg.dsn(fresh_db)
    out = run(dsn, "rollback", all_steps=True)
    assert "devdiag_meta" in out
    with psycopg.connect(dsn) as conn:
        left = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname IN ('devdiag', 'devdiag_meta')").fetchall()
    assert left == []
    assert "applying" in run(dsn)


def test_status_names_the_edited_file_and_ends_with_a_summary(pg, fresh_db, tmp_path, monkeypatch):
    """make status marks only the step file that changed and sums up applied, pending and edited steps."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate_mod.MIGRATIONS_DIR, copy)
    monkeypatch.setattr(migrate_mod, "MIGRATIONS_DIR", copy)
    run(pg.dsn(fresh_db))  # records per-file checksums
    target = copy / "0001_baseline.sql"
    target.write_text(target.read_text() + "\n-- edited\n")
    out = io.StringIO()
    with Migrator(pg.dsn(fresh_db), out=out) as m:
        assert m.status() == 1
    lines = out.getvalue().splitlines()
    edited = [ln for ln in lines if "EDITED" in ln]
    assert edited == ["applied  0001_baseline  EDITED AFTER APPLY: 0001_baseline.sql"]
    assert lines[-1].startswith("summary: ") and "1 edited after apply" in lines[-1]
    assert "0 pending" in lines[-1]


def test_a_login_outside_devdiag_owner_is_told_the_grant_and_nothing_is_applied(pg):
    """A login that is not a member of devdiag_owner, and may not join it, gets the GRANT to run; no step lands."""
    from psycopg import sql

    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS outsider_db")
        conn.execute("DROP ROLE IF EXISTS outsider")
        conn.execute("CREATE ROLE outsider LOGIN")
        conn.execute(sql.SQL("CREATE DATABASE outsider_db OWNER outsider"))
    try:
        with pytest.raises(DevdiagError, match=r"GRANT devdiag_owner TO outsider;") as exc:
            run(pg.dsn("outsider_db", "outsider"))
        assert "nothing was applied" in str(exc.value)
        with psycopg.connect(pg.dsn("outsider_db", "outsider")) as conn:
            assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'devdiag'").fetchone() is None
            applied = conn.execute(
                "SELECT count(*) FROM devdiag_meta._yoyo_migration").fetchone()[0] if conn.execute(
                "SELECT to_regclass('devdiag_meta._yoyo_migration')").fetchone()[0] else 0
        assert applied == 0
    finally:
        with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS outsider_db WITH (FORCE)")
            conn.execute("DROP ROLE IF EXISTS outsider")


def migrate_cli(dsn: str, *args: str, env: dict | None = None, timeout: float = 90):
    import os
    import subprocess

    return subprocess.run([*command("migrate"), *args, "--dsn", dsn],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_migrate_waiting_past_its_lock_wait_stops_naming_the_lock(pg, fresh_db):
    """While another session holds devdiag_meta.migrate_lock, a run gives up after DEVDIAG_MIGRATE_LOCK_WAIT, in one line."""
    with psycopg.connect(pg.dsn(fresh_db)) as holder:
        holder.execute("SELECT 1 FROM devdiag_meta.migrate_lock FOR UPDATE")
        res = migrate_cli(pg.dsn(fresh_db), "apply", env={"DEVDIAG_MIGRATE_LOCK_WAIT": "1"})
        assert res.returncode == 2 and len(error_lines(res.stderr)) == 1, res.stderr
        assert "has held the migrate lock for 1 s" in res.stderr
    res = migrate_cli(pg.dsn(fresh_db), "apply", env={"DEVDIAG_MIGRATE_LOCK_WAIT": "1"})
    assert res.returncode == 0, res.stderr


def test_migrate_sets_the_planner_settings_of_the_database_and_rollback_all_resets_them(pg, fresh_db):
    """After make migrate a new session of the database runs without JIT and without CHECK-constraint exclusion;
    rollback-all resets both."""
    dsn = pg.dsn(fresh_db)

    def settings() -> tuple:
        with psycopg.connect(dsn) as conn:
            return conn.execute("SELECT current_setting('jit'), current_setting('constraint_exclusion')").fetchone()

    assert settings() == ("on", "partition")  # a clone does not copy per-database settings
    out = run(dsn)
    assert "jit = off for new sessions" in out and "constraint_exclusion = off for new sessions" in out
    assert settings() == ("off", "off")
    assert "for new sessions" not in run(dsn)
    run(dsn, "rollback", all_steps=True)
    assert settings() == ("on", "partition")
