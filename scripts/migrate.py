#!/usr/bin/env python3
"""Apply, roll back and inspect the warehouse migrations.

    migrate.py apply      apply pending versioned steps, then re-apply sql/
    migrate.py rollback   undo the last applied step (--all: every step)
    migrate.py status     applied / pending steps, drift, repeatables state
    migrate.py reapply    re-apply sql/ only (the database must be at head)

Versioned steps are yoyo migrations in ``migrations/``; yoyo's bookkeeping
lives in the schema ``devdiag_meta``, beside our checksum of every applied
file (yoyo hashes a migration's id, not its content, so an edited step would
otherwise go unnoticed).  Repeatable definitions (``sql/functions``,
``sql/views``, ``sql/policies``, ``sql/jobs``) are re-applied on every run in
one transaction: all views of ``devdiag`` are dropped in a single statement
and re-created in file order, so a changed column never blocks the update and
no other object is silently dropped.  A session-level advisory lock (polled,
see ``__enter__``) makes concurrent runs wait for each other instead of
half-applying.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devdiag_env import (  # noqa: E402
    ROOT, DevdiagError, connect, libpq_dsn, main_guard, resolve_dsn, yoyo_dsn,
)

MIGRATIONS_DIR = ROOT / "migrations"
REPEATABLE_DIRS = ["sql/functions", "sql/views", "sql/policies", "sql/jobs"]
META_SCHEMA = "devdiag_meta"
LOCK_KEY = 7_236_111_001  # pg_advisory_lock key for migrate runs


def repeatable_files() -> list[Path]:
    files: list[Path] = []
    for d in REPEATABLE_DIRS:
        files += sorted((ROOT / d).glob("*.sql"))
    return files


def act_as_schema_owner(conn) -> None:
    """SET ROLE to the role that owns schema devdiag, when that is not the login.

    From step 0011 on, devdiag_owner (NOLOGIN) owns the warehouse: whichever
    DBA login migrates is a member and creates and replaces objects as that
    role, so every object has the same owner.  Bookkeeping in devdiag_meta
    stays with the login (callers RESET ROLE before touching it).
    """
    import psycopg
    from psycopg import sql

    row = conn.execute(
        """SELECT pg_get_userbyid(n.nspowner) FROM pg_namespace AS n
           WHERE n.nspname = 'devdiag' AND pg_get_userbyid(n.nspowner) <> current_user"""
    ).fetchone()
    if row is None:
        return
    try:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(row[0])))
    except psycopg.errors.InsufficientPrivilege:
        raise DevdiagError(
            f"schema devdiag is owned by {row[0]} and the migrating login cannot SET ROLE to it; "
            f"an administrator must run: GRANT {row[0]} TO <your login>"
        ) from None


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def migration_files(mid: str) -> list[Path]:
    """The files that make up a step: the step and its rollback."""
    return [p for p in (MIGRATIONS_DIR / f"{mid}.sql", MIGRATIONS_DIR / f"{mid}.rollback.sql") if p.exists()]


def step_checksum(mid: str) -> str:
    h = hashlib.sha256()
    for p in migration_files(mid):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def tree_checksum() -> str:
    h = hashlib.sha256()
    for p in repeatable_files():
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


class Migrator:
    def __init__(self, dsn: str, out=sys.stdout):
        self.dsn = libpq_dsn(dsn)
        self.out = out
        self.lock_conn = None

    # -- plumbing --------------------------------------------------------
    def say(self, msg: str) -> None:
        print(msg, file=self.out)

    def __enter__(self):
        self.lock_conn = connect(self.dsn, autocommit=True)
        # Poll instead of blocking in pg_advisory_lock: a session waiting inside a
        # statement holds a snapshot, which the running migrate's CREATE INDEX
        # CONCURRENTLY would wait for until its lock_timeout.
        while not self.lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
            time.sleep(0.2)
        self._ensure_meta()
        return self

    def __exit__(self, *exc):
        if self.lock_conn is not None:
            self.lock_conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            self.lock_conn.close()

    def _ensure_meta(self) -> None:
        import psycopg

        c = self.lock_conn
        try:
            c.execute(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
        except psycopg.errors.InsufficientPrivilege:
            raise DevdiagError(
                "the migrating role lacks CREATE on the database "
                "(run make migrate as the database owner)"
            ) from None
        c.execute(
            f"""CREATE TABLE IF NOT EXISTS {META_SCHEMA}.migration_checksum (
                    migration_id text PRIMARY KEY,
                    sha256 text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        c.execute(
            f"""CREATE TABLE IF NOT EXISTS {META_SCHEMA}.repeatable_state (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    sha256 text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())"""
        )

    def backend(self):
        from yoyo import get_backend

        parts = urlsplit(yoyo_dsn(self.dsn))
        query = dict(parse_qsl(parts.query))
        query["schema"] = META_SCHEMA
        uri = urlunsplit(parts._replace(query=urlencode(query)))
        backend = get_backend(uri)
        # Safe: we hold the advisory lock, so no other migrate run owns yoyo's lock row.
        backend.break_lock()
        # yoyo runs each step on a copy of the backend (its own connection):
        # the step acts as the schema owner there, yoyo's bookkeeping stays with the login.
        plain_copy = backend.copy

        def copy_as_owner():
            step_backend = plain_copy()
            act_as_schema_owner(step_backend.connection)
            return step_backend

        backend.copy = copy_as_owner
        return backend

    def migrations(self):
        from yoyo import read_migrations

        return read_migrations(str(MIGRATIONS_DIR))

    # -- state -------------------------------------------------------------
    def applied_ids(self, backend, migrations) -> list[str]:
        applied = set(backend.get_applied_migration_hashes())
        return [m.id for m in migrations if m.hash in applied]

    def recorded_checksums(self) -> dict[str, str]:
        rows = self.lock_conn.execute(
            f"SELECT migration_id, sha256 FROM {META_SCHEMA}.migration_checksum"
        ).fetchall()
        return dict(rows)

    def check_drift(self, applied: list[str]) -> None:
        recorded = self.recorded_checksums()
        for mid in applied:
            want = recorded.get(mid)
            if want is None:
                continue
            if want != step_checksum(mid):
                names = ", ".join(str(p.relative_to(ROOT)) for p in migration_files(mid))
                raise DevdiagError(
                    f"applied migration {mid} was edited after it was applied ({names}); "
                    "landed steps are append-only: restore the file and add a new step"
                )
        missing = [m for m in recorded if not migration_files(m)]
        if missing:
            raise DevdiagError(
                f"applied migration file(s) missing from migrations/: {', '.join(sorted(missing))}"
            )

    def record(self, mids: list[str]) -> None:
        for mid in mids:
            self.lock_conn.execute(
                f"""INSERT INTO {META_SCHEMA}.migration_checksum (migration_id, sha256)
                    VALUES (%s, %s)
                    ON CONFLICT (migration_id) DO UPDATE SET sha256 = EXCLUDED.sha256""",
                (mid, step_checksum(mid)),
            )

    # -- repeatables -------------------------------------------------------
    def drop_views(self, conn) -> None:
        from psycopg import sql

        views = conn.execute(
            """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname IN ('devdiag', 'devdiag_ref') AND c.relkind IN ('v', 'm') ORDER BY 1, 2"""
        ).fetchall()
        if views:
            # One statement: dependencies among our own views (the reference
            # views of devdiag_ref read those of devdiag) are fine, anything
            # else that depends on them makes this fail loudly.
            conn.execute(sql.SQL("DROP VIEW {}").format(
                sql.SQL(", ").join(sql.Identifier(n, v) for n, v in views)))

    def apply_repeatables(self) -> None:
        import psycopg

        with connect(self.dsn) as conn:
            with conn.transaction():
                act_as_schema_owner(conn)
                self.drop_views(conn)
                for path in repeatable_files():
                    rel = path.relative_to(ROOT)
                    try:
                        conn.execute(path.read_text(encoding="utf-8"))
                    except psycopg.Error as exc:
                        msg = str(exc).strip().splitlines()[0]
                        raise DevdiagError(f"{rel}: {msg}") from None
                conn.execute("RESET ROLE")
                conn.execute(
                    f"""INSERT INTO {META_SCHEMA}.repeatable_state (singleton, sha256, applied_at)
                        VALUES (true, %s, now())
                        ON CONFLICT (singleton) DO UPDATE
                        SET sha256 = EXCLUDED.sha256, applied_at = EXCLUDED.applied_at""",
                    (tree_checksum(),),
                )
        self.say(f"re-applied {len(repeatable_files())} files from sql/")

    def drop_repeatables(self) -> None:
        with connect(self.dsn) as conn:
            with conn.transaction():
                if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'devdiag'").fetchone():
                    act_as_schema_owner(conn)
                    self.drop_views(conn)
                    conn.execute("RESET ROLE")
                conn.execute(f"DELETE FROM {META_SCHEMA}.repeatable_state")

    # -- commands ------------------------------------------------------------
    def apply(self) -> int:
        backend = self.backend()
        migrations = self.migrations()
        applied = self.applied_ids(backend, migrations)
        self.check_drift(applied)
        self.record(applied)  # steps applied before checksums were kept
        pending = backend.to_apply(migrations)
        if pending:
            # Views depend on the tables a step may change; they come back below.
            self.drop_repeatables()
            for m in pending:
                self.say(f"applying {m.id}")
                try:
                    backend.apply_migrations_only(migrations.__class__([m]))
                except Exception as exc:  # yoyo re-raises the driver's error
                    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                    raise DevdiagError(f"migration {m.id} failed: {msg}") from None
                self.record([m.id])
        else:
            self.say("no pending migrations")
        self.apply_repeatables()
        return 0

    def rollback(self, all_steps: bool = False) -> int:
        backend = self.backend()
        migrations = self.migrations()
        applied = self.applied_ids(backend, migrations)
        self.check_drift(applied)
        targets = backend.to_rollback(migrations)
        if not targets:
            self.say("nothing to roll back")
            return 0
        if not all_steps:
            targets = migrations.__class__([targets[0]])
        self.drop_repeatables()
        for m in targets:
            self.say(f"rolling back {m.id}")
            try:
                backend.rollback_migrations(migrations.__class__([m]))
            except Exception as exc:
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise DevdiagError(f"rollback of {m.id} failed: {msg}") from None
            self.lock_conn.execute(
                f"DELETE FROM {META_SCHEMA}.migration_checksum WHERE migration_id = %s", (m.id,))
        left = self.applied_ids(backend, migrations)
        if left:
            self.say(f"{len(left)} step(s) still applied; views and sql/ come back with the next migrate")
        else:
            self.say("all steps rolled back: the devdiag schema is gone")
        return 0

    def status(self) -> int:
        backend = self.backend()
        migrations = self.migrations()
        applied = set(self.applied_ids(backend, migrations))
        recorded = self.recorded_checksums()
        drift = 0
        for m in migrations:
            state = "applied" if m.id in applied else "pending"
            note = ""
            if m.id in applied and recorded.get(m.id) not in (None, step_checksum(m.id)):
                note = "  EDITED AFTER APPLY"
                drift += 1
            self.say(f"{state:8} {m.id}{note}")
        row = self.lock_conn.execute(
            f"SELECT sha256, applied_at FROM {META_SCHEMA}.repeatable_state").fetchone()
        if row is None:
            self.say("sql/     not applied (run make migrate)")
        elif row[0] != tree_checksum():
            self.say(f"sql/     changed since last apply at {row[1]:%Y-%m-%d %H:%M:%S%z} (run make migrate)")
        else:
            self.say(f"sql/     up to date (applied {row[1]:%Y-%m-%d %H:%M:%S%z})")
        return 1 if drift else 0

    def reapply(self) -> int:
        backend = self.backend()
        migrations = self.migrations()
        applied = self.applied_ids(backend, migrations)
        self.check_drift(applied)
        if backend.to_apply(migrations):
            raise DevdiagError("migrations are pending: run make migrate")
        self.apply_repeatables()
        return 0


@main_guard
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["apply", "rollback", "status", "reapply"], nargs="?", default="apply")
    ap.add_argument("--all", action="store_true", help="rollback: undo every applied step")
    ap.add_argument("--dsn", help="warehouse DSN (default: DEVDIAG_DSN, devdiag.yaml, local cluster)")
    args = ap.parse_args(argv)
    dsn = args.dsn or resolve_dsn()
    with Migrator(dsn) as m:
        if args.command == "apply":
            return m.apply()
        if args.command == "rollback":
            return m.rollback(all_steps=args.all)
        if args.command == "status":
            return m.status()
        return m.reapply()


if __name__ == "__main__":
    sys.exit(main())
