"""make backup / make restore: verified dumps that round-trip every table and view."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from devdiag_warehouse import backup as backup_mod
from devdiag_warehouse import migrate as migrate_mod
from devdiag_warehouse import restore as restore_mod
from devdiag_warehouse.config import DevdiagError
from devdiag_warehouse.migrate import Migrator
from tests.commands import error_lines


def only_set(folder: Path) -> Path:
    sets = [p for p in folder.iterdir() if p.is_dir()]
    assert len(sets) == 1, sets
    return sets[0]


def test_restore_into_a_new_database_reproduces_every_table_and_view(pg, loaded_db, tmp_path, cli,
                                                                     tables_of, views_of):
    """Backup (directory format, parallel) then restore into a new database: all rows and view results equal."""
    res = cli("backup", "--dsn", pg.dsn(loaded_db), "--dir", tmp_path, "--jobs", "2")
    assert res.returncode == 0, res.stderr
    set_dir = only_set(tmp_path)
    manifest = json.loads((set_dir / "manifest.json").read_text())
    assert manifest["format"] == "directory" and manifest["jobs"] == 2
    # runs live in the day partitions (devdiag_part); their partitioned parents hold no rows themselves
    assert {"devdiag_part.diag_run_default", "devdiag_part.diag_run_archive_default", "devdiag.fix_outcome",
            "devdiag.settings", "devdiag_meta.migration_checksum"} <= set(manifest["tables"])
    assert any(t.startswith("devdiag_part.diag_run_p") for t in manifest["tables"])
    for f in manifest["files"]:
        assert backup_mod.sha256_file(set_dir / f["path"]) == f["sha256"]
    assert manifest["bytes"] == sum(f["bytes"] for f in manifest["files"]) > 0

    target = f"r_{uuid.uuid4().hex[:10]}"
    res = cli("restore", set_dir, "--dsn", pg.dsn(target), "--create")
    try:
        assert res.returncode == 0, res.stderr
        source_tables, target_tables = tables_of(pg.superuser_dsn(loaded_db)), tables_of(pg.superuser_dsn(target))
        assert source_tables["devdiag.diag_run_archive"][0] > 0 and source_tables["devdiag.fix_outcome"][0] > 0
        assert target_tables == source_tables
        source_views, target_views = views_of(pg.superuser_dsn(loaded_db)), views_of(pg.superuser_dsn(target))
        assert source_views["devdiag.v_ttr_days"][0] > 0
        assert target_views == source_views
        with Migrator(pg.dsn(target), out=open(os.devnull, "w")) as m:
            assert m.status() == 0
    finally:
        pg.drop(target)


def test_custom_format_restores_over_an_existing_warehouse_with_clean(pg, loaded_db, tmp_path, tables_of,
                                                                      views_of):
    """--clean puts a changed warehouse back exactly as it was when backed up."""
    set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, fmt="custom", quiet=True)
    assert (set_dir / "dump.pgdump").is_file()
    before_tables, before_views = tables_of(pg.superuser_dsn(loaded_db)), views_of(pg.superuser_dsn(loaded_db))
    with psycopg.connect(pg.superuser_dsn(loaded_db)) as conn:
        conn.execute("DELETE FROM devdiag.diag_run WHERE tenant = 'acme'")
        conn.execute("UPDATE devdiag.fix_outcome SET confidence = 0")
        conn.execute("UPDATE devdiag.settings SET value = '7' WHERE key = 'retention_days'")
    assert tables_of(pg.superuser_dsn(loaded_db)) != before_tables
    restore_mod.restore(set_dir, pg.dsn(loaded_db), clean=True, quiet=True)
    assert tables_of(pg.superuser_dsn(loaded_db)) == before_tables
    assert views_of(pg.superuser_dsn(loaded_db)) == before_views


def test_restore_onto_a_warehouse_without_clean_is_refused(pg, loaded_db, tmp_path, cli):
    """Restoring onto a database that already has the warehouse needs --clean, and says so."""
    set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, quiet=True)
    res = cli("restore", set_dir, "--dsn", pg.dsn(loaded_db))
    assert res.returncode == 2
    assert len(error_lines(res.stderr)) == 1 and "--clean" in res.stderr


def test_damaged_dump_gives_one_clear_error_line(pg, loaded_db, tmp_path, cli):
    """A flipped byte fails the manifest check; a truncated bare archive fails pg_restore --list; one line each."""
    set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, fmt="custom", quiet=True)
    dump = set_dir / "dump.pgdump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    target = f"r_{uuid.uuid4().hex[:10]}"
    res = cli("restore", set_dir, "--dsn", pg.dsn(target), "--create")
    assert res.returncode == 2
    assert error_lines(res.stderr)[0].startswith("error: ") and len(error_lines(res.stderr)) == 1
    assert "damaged" in res.stderr and "dump.pgdump" in res.stderr

    bare = tmp_path / "bare.pgdump"
    bare.write_bytes(bytes(data[: len(data) // 3]))
    res = cli("restore", bare, "--dsn", pg.dsn(target), "--create")
    assert res.returncode == 2
    assert error_lines(res.stderr)[0].startswith("error: ") and len(error_lines(res.stderr)) == 1
    assert "damaged or not a pg_dump archive" in res.stderr
    with psycopg.connect(pg.dsn(target)) as conn:  # --create made it; nothing was restored into it
        assert conn.execute("SELECT to_regnamespace('devdiag')").fetchone()[0] is None
    pg.drop(target)

    res = cli("backup", "--verify", set_dir)
    assert res.returncode == 2 and "does not match its SHA-256" in res.stderr


def test_backup_keeps_the_last_n_days_and_never_the_newest(pg, loaded_db, tmp_path):
    """Sets of this database older than keep_days and stale partial sets go; others stay."""
    now = datetime.now(timezone.utc)

    def fake(db: str, age: timedelta, suffix: str = "", complete: bool = True) -> Path:
        p = tmp_path / f"{db}-{(now - age).strftime(backup_mod.STAMP_FMT)}{suffix}"
        p.mkdir()
        if complete:
            (p / "manifest.json").write_text("{}")
        return p

    old = fake(loaded_db, timedelta(days=31))
    recent = fake(loaded_db, timedelta(days=29))
    other_db = fake("another", timedelta(days=90))
    stale_partial = fake(loaded_db, timedelta(hours=3), ".partial", complete=False)
    unrelated = tmp_path / "notes"
    unrelated.mkdir()
    new = backup_mod.backup(pg.dsn(loaded_db), tmp_path, keep_days=30, quiet=True)
    assert not old.exists() and not stale_partial.exists()
    assert recent.exists() and other_db.exists() and unrelated.exists() and new.exists()
    # keep_days=1 with only older sets around: the one just written always stays.
    backup_mod.prune(tmp_path, loaded_db, 1, new, now + timedelta(days=5), quiet=True)
    assert new.exists() and not recent.exists()


def test_restore_refuses_a_backup_whose_migrations_differ_from_the_checkout(pg, loaded_db, tmp_path):
    """A backup recording a different checksum for an applied step stops with drift named."""
    with psycopg.connect(pg.dsn(loaded_db)) as conn:
        conn.execute("UPDATE devdiag_meta.migration_checksum SET sha256 = 'edited' "
                     "WHERE migration_id = '0001_baseline'")
    set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, quiet=True)
    target = f"r_{uuid.uuid4().hex[:10]}"
    try:
        with pytest.raises(DevdiagError, match="0001_baseline was edited after it was applied"):
            restore_mod.restore(set_dir, pg.dsn(target), create=True, quiet=True)
    finally:
        pg.drop(target)


def test_backup_older_than_the_code_is_restored_and_migrated_on_request(pg, tmp_path, views_of, load_sample,
                                                                        monkeypatch):
    """A backup taken before the newest step restores, reports it pending, and --migrate applies it."""
    source = pg.clone()
    load_sample(pg.superuser_dsn(source), runs=500)
    set_dir = backup_mod.backup(pg.dsn(source), tmp_path / "sets", quiet=True)
    # The checkout moves on: one step more than the backup knows.
    newer = tmp_path / "migrations"
    shutil.copytree(migrate_mod.MIGRATIONS_DIR, newer)
    (newer / "0002_add_job_log_note.sql").write_text(
        "-- depends: 0001_baseline\nALTER TABLE devdiag.job_log ADD COLUMN note text;\n")
    monkeypatch.setattr(migrate_mod, "MIGRATIONS_DIR", newer)
    target = f"r_{uuid.uuid4().hex[:10]}"
    try:
        summary = restore_mod.restore(set_dir, pg.dsn(target), create=True, quiet=True)
        assert summary["pending"] == ["0002_add_job_log_note"]
        pg.drop(target)
        summary = restore_mod.restore(set_dir, pg.dsn(target), create=True, migrate=True, quiet=True)
        assert summary["pending"] == []
        with Migrator(pg.dsn(target), out=open(os.devnull, "w")) as m:
            assert m.status() == 0
        with psycopg.connect(pg.dsn(target)) as conn:
            assert conn.execute("SELECT count(note) FROM devdiag.job_log").fetchone() == (0,)
        assert views_of(pg.superuser_dsn(target))["devdiag.v_problem_counts"][0] > 0
    finally:
        pg.drop(target)
        pg.drop(source)


def test_roles_the_dump_refers_to_are_recreated_with_memberships_and_grants(pg, loaded_db, tmp_path):
    """Group role, its login member, table grant and database CONNECT survive losing the roles."""
    tag = uuid.uuid4().hex[:8]
    group, login = f"ops_readers_{tag}", f"ops_alice_{tag}"
    with psycopg.connect(pg.superuser_dsn(loaded_db), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{group}" NOLOGIN')
        conn.execute(f'CREATE ROLE "{login}" LOGIN CONNECTION LIMIT 3 IN ROLE "{group}"')
        conn.execute(f"COMMENT ON ROLE \"{group}\" IS 'tenant readers, it''s a test'")
        conn.execute(f'GRANT USAGE ON SCHEMA devdiag TO "{group}"')
        conn.execute(f'GRANT SELECT ON devdiag.v_problem_counts, devdiag.diag_run TO "{group}"')
        conn.execute(f'GRANT CONNECT ON DATABASE "{loaded_db}" TO "{group}"')
    set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, quiet=True)
    roles_sql = (set_dir / "roles.sql").read_text()
    assert group in roles_sql and login in roles_sql and "PASSWORD '" not in roles_sql
    # Disaster: the database and the roles are gone.
    pg.drop(loaded_db)
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP ROLE "{login}"')
        conn.execute(f'DROP ROLE "{group}"')
    target = f"r_{uuid.uuid4().hex[:10]}"
    try:
        restore_mod.restore(set_dir, pg.dsn(target), create=True, quiet=True)
        with psycopg.connect(pg.superuser_dsn(target)) as conn:
            assert conn.execute("SELECT rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = %s",
                                (login,)).fetchone() == (True, 3)
            assert conn.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", (login, group)).fetchone()[0]
            assert conn.execute("SELECT has_table_privilege(%s, 'devdiag.diag_run', 'SELECT')",
                                (login,)).fetchone()[0]
            assert conn.execute("SELECT has_database_privilege(%s, current_database(), 'CONNECT')",
                                (group,)).fetchone()[0]
            assert conn.execute("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s",
                                (group,)).fetchone()[0] == "tenant readers, it's a test"
        # roles.sql is re-runnable: a second restore over it changes nothing and fails nothing.
        restore_mod.restore(set_dir, pg.dsn(target), clean=True, quiet=True)
    finally:
        pg.drop(target)
        with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{login}"')
            conn.execute(f'DROP ROLE IF EXISTS "{group}"')


def test_backup_holds_every_row_while_row_level_security_is_forced(pg, loaded_db, tmp_path, tables_of):
    """Under FORCE RLS, a bypassing role or a policy USING (true) gives a full dump; a narrowing one is flagged."""
    with psycopg.connect(pg.superuser_dsn(loaded_db)) as conn:
        for table in ("diag_run", "diag_run_archive", "fix_outcome"):
            conn.execute(f"ALTER TABLE devdiag.{table} ENABLE ROW LEVEL SECURITY")
            conn.execute(f"ALTER TABLE devdiag.{table} FORCE ROW LEVEL SECURITY")
            conn.execute(f"CREATE POLICY ops_test_only_acme ON devdiag.{table} TO devdiag USING (tenant = 'acme')")
        conn.execute("CREATE ROLE ops_backup_bypass LOGIN BYPASSRLS IN ROLE devdiag")
    before = tables_of(pg.superuser_dsn(loaded_db))
    try:
        # Only a narrowing policy applies to the login: its dump is flagged as possibly partial.
        with psycopg.connect(pg.dsn(loaded_db)) as conn:
            if conn.execute("SELECT count(DISTINCT tenant) FROM devdiag.diag_run").fetchone()[0] == 1:
                narrowed = backup_mod.backup(pg.dsn(loaded_db), tmp_path / "narrowed", quiet=True)
                manifest = json.loads((narrowed / "manifest.json").read_text())
                assert manifest["through_row_security"] is True
                assert "devdiag.diag_run" in manifest["rls_may_hide_rows"]
        # A BYPASSRLS login dumps with row security off.
        full_set = backup_mod.backup(pg.dsn(loaded_db, "ops_backup_bypass"), tmp_path / "bypass", quiet=True)
        manifest = json.loads((full_set / "manifest.json").read_text())
        assert manifest["through_row_security"] is False and "devdiag.diag_run" in manifest["rls_tables"]
        # A permissive USING (true) policy for the login (as devdiag_owner has) reads every row through RLS.
        with psycopg.connect(pg.superuser_dsn(loaded_db)) as conn:
            for table in ("diag_run", "diag_run_archive", "fix_outcome"):
                conn.execute(f"CREATE POLICY ops_test_all ON devdiag.{table} TO devdiag USING (true)")
        policy_set = backup_mod.backup(pg.dsn(loaded_db), tmp_path / "policy", quiet=True)
        manifest = json.loads((policy_set / "manifest.json").read_text())
        assert manifest["through_row_security"] is True and manifest["rls_may_hide_rows"] == []
        for set_dir in (full_set, policy_set):
            target = f"r_{uuid.uuid4().hex[:10]}"
            try:
                restore_mod.restore(set_dir, pg.dsn(target), create=True, quiet=True)
                after = tables_of(pg.superuser_dsn(target))
                assert {k: v for k, v in after.items() if k.startswith("devdiag.")} == \
                    {k: v for k, v in before.items() if k.startswith("devdiag.")}
                with psycopg.connect(pg.superuser_dsn(target)) as conn:
                    assert conn.execute("SELECT relforcerowsecurity AND relrowsecurity FROM pg_class "
                                        "WHERE oid = 'devdiag.diag_run'::regclass").fetchone()[0]
            finally:
                pg.drop(target)
    finally:
        with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
            conn.execute("DROP ROLE ops_backup_bypass")


def pg_cron_available(pg) -> bool:
    with psycopg.connect(pg.superuser_dsn()) as conn:
        return conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0] is not None


def test_pg_cron_jobs_are_backed_up_and_rescheduled_for_the_same_database(pg, loaded_db, tmp_path):
    """A named job running in the warehouse comes back after a restore into a database of the same name."""
    if not pg_cron_available(pg):
        pytest.skip("pg_cron is not preloaded on this server (the embedded PostgreSQL has none)")
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        cron_db = conn.execute("SHOW cron.database_name").fetchone()[0]
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (cron_db,)).fetchone():
            conn.execute(f'CREATE DATABASE "{cron_db}"')
    cron_dsn = pg.superuser_dsn(cron_db)
    job = f"devdiag-ops-test-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cron_dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        conn.execute("SELECT cron.schedule_in_database(%s, '17 3 * * *', 'SELECT 1', %s, 'devdiag', true)",
                     (job, loaded_db))
    try:
        set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, cron_dsn=cron_dsn, quiet=True)
        assert job in (set_dir / "cron.sql").read_text()
        with psycopg.connect(cron_dsn, autocommit=True) as conn:
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %s", (job,))
        # Into a scratch database: the production job must not be re-pointed.
        scratch = f"r_{uuid.uuid4().hex[:10]}"
        assert restore_mod.restore(set_dir, pg.dsn(scratch), create=True, cron_dsn=cron_dsn,
                                   quiet=True)["cron_jobs"] == 0
        pg.drop(scratch)
        # Disaster recovery of the same database: the job comes back.
        pg.drop(loaded_db)
        assert restore_mod.restore(set_dir, pg.dsn(loaded_db), create=True, cron_dsn=cron_dsn,
                                   quiet=True)["cron_jobs"] == 1
        with psycopg.connect(cron_dsn) as conn:
            assert conn.execute("SELECT schedule, command, database FROM cron.job WHERE jobname = %s",
                                (job,)).fetchone() == ("17 3 * * *", "SELECT 1", loaded_db)
    finally:
        with psycopg.connect(cron_dsn, autocommit=True) as conn:
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %s", (job,))


def test_backup_without_a_warehouse_says_so(pg, tmp_path, cli):
    """Backing up a database with no devdiag schema fails with one line naming the cause."""
    name = f"e_{uuid.uuid4().hex[:10]}"
    pg.janitor(name).init()
    try:
        res = cli("backup", "--dsn", pg.dsn(name), "--dir", tmp_path)
        assert res.returncode == 2 and len(error_lines(res.stderr)) == 1
        assert "no devdiag schema" in res.stderr
        assert not any(tmp_path.iterdir())
    finally:
        pg.drop(name)


@pytest.mark.parametrize("fmt", ["directory", "custom"])
def test_backup_files_are_private_to_their_owner_whatever_the_umask(pg, loaded_db, tmp_path, fmt):
    """Under umask 022 every file of a backup set is 0600 and every folder 0700 (the dump holds every tenant)."""
    old = os.umask(0o022)
    try:
        set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path / "backups", fmt=fmt, jobs=2, quiet=True)
    finally:
        os.umask(old)
    modes = {str(p.relative_to(tmp_path)): p.stat().st_mode & 0o777
             for p in [tmp_path / "backups", set_dir, *set_dir.rglob("*")]}
    assert {"roles.sql", "manifest.json"} <= {Path(p).name for p in modes}
    wrong = {p: oct(m) for p, m in modes.items()
             if m != (0o700 if (tmp_path / p).is_dir() else 0o600)}
    assert wrong == {}


def test_restore_create_without_createdb_names_the_privilege_and_the_way_round(pg):
    """--create by a login without CREATEDB stops in one line saying what to ask an administrator for."""
    from psycopg import sql

    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as su:
        su.execute("DROP ROLE IF EXISTS no_createdb")
        su.execute(sql.SQL("CREATE ROLE no_createdb LOGIN IN ROLE devdiag_owner"))
    try:
        with pytest.raises(DevdiagError, match="lacks CREATEDB.*without --create"):
            restore_mod.create_database(pg.dsn("restore_target_nocreate", "no_createdb"))
    finally:
        with psycopg.connect(pg.superuser_dsn(), autocommit=True) as su:
            su.execute("DROP ROLE no_createdb")
