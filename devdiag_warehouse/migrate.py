"""Apply, roll back and inspect the warehouse migrations.

    devdiag-migrate apply      apply pending versioned steps, then re-apply sql/
    devdiag-migrate rollback   undo the last applied step (--all: every step)
    devdiag-migrate status     applied / pending steps, drift, repeatables state
    devdiag-migrate reapply    re-apply sql/ only (the database must be at head)

Versioned steps are yoyo migrations in ``migrations/``; yoyo's bookkeeping
lives in the schema ``devdiag_meta``, beside our checksum of every applied
file (yoyo hashes a migration's id, not its content, so an edited step would
otherwise go unnoticed).  Repeatable definitions (``sql/functions``,
``sql/rollups``, ``sql/views``, ``sql/policies``, ``sql/jobs``) are re-applied on every run in
one transaction: all views of ``devdiag`` are dropped in a single statement
and re-created in file order, so a changed column never blocks the update and
no other object is silently dropped.  A session-level advisory lock (polled,
see ``__enter__``) makes concurrent runs wait for each other instead of
half-applying.

A killed run leaves nothing half done: a transactional step commits in the
same transaction as yoyo's record of it, so it is either applied and recorded
or neither; a non-transactional step (one ``CONCURRENTLY`` statement) is
written to be re-run (``IF [NOT] EXISTS``) and an index a killed build left
invalid is dropped before the step runs again.  Runs take a row lock in
``devdiag_meta`` that only the migrating login can reach, give up after
``--lock-wait`` seconds naming the session that holds it, and re-apply
``sql/`` only when it changed, under a lock timeout with retries, so a
migrate with nothing to do never queues behind readers.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

from .config import (
    ROOT,
    DevdiagError,
    add_dsn_option,
    connect,
    libpq_dsn,
    main_guard,
    resolve_dsn,
    yoyo_url,
)

MIGRATIONS_DIR = ROOT / "migrations"
# Per-database settings make migrate sets as the database's owner (turn_jit_off).
DATABASE_SETTINGS = {"jit": "off", "constraint_exclusion": "off"}

REPEATABLE_DIRS = ["sql/functions", "sql/rollups", "sql/views", "sql/policies", "sql/jobs"]
META_SCHEMA = "devdiag_meta"
#: the first step of the released chain: it folds the unreleased steps that built the schema before it
BASELINE = "0001_baseline"
#: the last unreleased step; a database migrated up to it is adopted by the baseline when its catalog matches
PRE_BASELINE_LAST = "0088_move_rollups_to_their_own_schema"
#: the git tag of the last commit that carries the unreleased steps
PRE_BASELINE_TAG = "pre-baseline"
BASELINE_CATALOG = MIGRATIONS_DIR / f"{BASELINE}.catalog"
BASELINE_CATALOG_SQL = ROOT / "sql" / "migrate" / "baseline_catalog.sql"
#: seconds a migrate run waits for another one (DEVDIAG_MIGRATE_LOCK_WAIT or --lock-wait)
DEFAULT_LOCK_WAIT = 600.0
#: lock_timeout of each attempt at re-applying sql/, and how many attempts
REAPPLY_LOCK_TIMEOUT_MS, REAPPLY_ATTEMPTS = 5000, 5


def repeatable_files() -> list[Path]:
    files: list[Path] = []
    for d in REPEATABLE_DIRS:
        files += sorted((ROOT / d).glob("*.sql"))
    return files


def act_as_schema_owner(conn) -> None:
    """SET ROLE to the role that owns schema devdiag, when that is not the login.

    devdiag_owner (NOLOGIN) owns the warehouse the baseline builds: whichever
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


def file_checksums(mid: str) -> dict[str, str]:
    """SHA-256 of each file of a step, so drift names the file that changed."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in migration_files(mid)}


def edited_files(mid: str, recorded_files: dict | None) -> list[str]:
    """The files of an applied step that differ from what was applied (all, when unknown)."""
    now = file_checksums(mid)
    if not recorded_files:
        return sorted(now)
    changed = sorted(n for n in set(now) | set(recorded_files) if now.get(n) != recorded_files.get(n))
    return changed or sorted(now)  # the step's checksum differs though no file does: name them all


def tree_checksum() -> str:
    h = hashlib.sha256()
    for p in repeatable_files():
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


GROUP_ROLES = ("devdiag_owner", "devdiag_writer", "devdiag_reader", "devdiag_analyst", "devdiag_monitor")


def error_text(exc: Exception) -> str:
    """A driver error as one line, with PostgreSQL's hint (it often holds the statement to run)."""
    text = str(exc).strip()
    msg = text.splitlines()[0] if text else repr(exc)
    hint = getattr(getattr(exc, "diag", None), "message_hint", None)
    return f"{msg} (hint: {hint})" if hint else msg


class Migrator:
    def __init__(self, dsn: str, out=sys.stdout, lock_wait: float | None = None):
        self.dsn = libpq_dsn(dsn)
        self.out = out
        if lock_wait is None:
            lock_wait = float(os.environ.get("DEVDIAG_MIGRATE_LOCK_WAIT") or DEFAULT_LOCK_WAIT)
        self.lock_wait = lock_wait
        self.lock_conn = None
        self.guard_conn = None

    # -- plumbing --------------------------------------------------------
    def say(self, msg: str) -> None:
        print(msg, file=self.out)

    def __enter__(self):
        self.lock_conn = connect(self.dsn, autocommit=True, application_name="devdiag-migrate")
        self._ensure_lock_table()
        self._take_guard()
        self._ensure_meta()
        return self

    def __exit__(self, *exc):
        for conn in (self.guard_conn, self.lock_conn):
            if conn is not None and not conn.closed:
                conn.close()

    def _take_guard(self) -> None:
        """Serialise migrate runs with a row lock only the migrating login can reach.

        Polled with NOWAIT: a session blocked inside a statement holds a
        snapshot, which the running migrate's CREATE INDEX CONCURRENTLY would
        wait for.  An advisory key would let any login stall every migrate.
        """
        import psycopg

        self.guard_conn = connect(self.dsn, application_name="devdiag-migrate")
        # The guard idles in its transaction for the whole run, which may be long.
        self.guard_conn.execute("SET idle_in_transaction_session_timeout = 0")
        self.guard_conn.commit()
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                self.guard_conn.execute(f"SELECT FROM {META_SCHEMA}.migrate_lock FOR UPDATE NOWAIT")
                return
            except psycopg.errors.LockNotAvailable:
                self.guard_conn.rollback()
            except psycopg.errors.UndefinedTable:  # a rollback-all just dropped devdiag_meta
                self.guard_conn.rollback()
                self._ensure_lock_table()
            if time.monotonic() >= deadline:
                holder = self.lock_conn.execute(
                    """SELECT a.pid, a.usename, a.application_name FROM pg_locks AS l
                       JOIN pg_stat_activity AS a ON a.pid = l.pid
                       WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock'
                         AND a.application_name = 'devdiag-migrate' AND a.pid <> pg_backend_pid()
                         AND a.pid <> %s LIMIT 1""", (self.guard_conn.info.backend_pid,)).fetchone()
                who = f" (pid {holder[0]}, user {holder[1]})" if holder else ""
                raise DevdiagError(
                    f"another migrate run{who} has held the migrate lock for {self.lock_wait:.0f} s; "
                    "wait for it (DEVDIAG_MIGRATE_LOCK_WAIT or --lock-wait sets how long), or end it "
                    "with pg_terminate_backend(pid) if it was abandoned")
            time.sleep(0.2)

    def _ensure_lock_table(self) -> None:
        import psycopg

        c = self.lock_conn
        for attempt in range(5):
            try:
                c.execute(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
                c.execute(f"CREATE TABLE IF NOT EXISTS {META_SCHEMA}.migrate_lock (singleton boolean PRIMARY KEY)")
                c.execute(f"INSERT INTO {META_SCHEMA}.migrate_lock VALUES (true) ON CONFLICT DO NOTHING")
                break
            except psycopg.errors.InsufficientPrivilege:
                raise DevdiagError(
                    "the migrating role lacks CREATE on the database "
                    "(run make migrate as the database owner)"
                ) from None
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject,
                    psycopg.errors.DuplicateTable):
                continue  # a concurrent first run created it at the same moment

    def _ensure_meta(self) -> None:
        c = self.lock_conn
        c.execute(
            f"""CREATE TABLE IF NOT EXISTS {META_SCHEMA}.migration_checksum (
                    migration_id text PRIMARY KEY,
                    sha256 text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        c.execute(f"ALTER TABLE {META_SCHEMA}.migration_checksum ADD COLUMN IF NOT EXISTS file_sha256 jsonb")
        c.execute(
            f"""CREATE TABLE IF NOT EXISTS {META_SCHEMA}.repeatable_state (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    sha256 text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        c.execute(f"ALTER TABLE {META_SCHEMA}.repeatable_state ADD COLUMN IF NOT EXISTS objects text")

    def backend(self):
        from yoyo import get_backend

        backend = get_backend(yoyo_url(self.dsn, schema=META_SCHEMA))
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

    def recorded_files(self) -> dict[str, dict]:
        rows = self.lock_conn.execute(
            f"SELECT migration_id, file_sha256 FROM {META_SCHEMA}.migration_checksum"
        ).fetchall()
        return {mid: files for mid, files in rows if files}

    def drifted(self, applied) -> dict[str, list[str]]:
        """Applied steps edited since: step id -> the edited file names."""
        recorded, files = self.recorded_checksums(), self.recorded_files()
        return {mid: edited_files(mid, files.get(mid)) for mid in applied
                if recorded.get(mid) is not None and recorded[mid] != step_checksum(mid)}

    def check_drift(self, applied: list[str]) -> None:
        for mid, edited in self.drifted(applied).items():
            if edited:
                names = ", ".join(f"migrations/{n}" for n in edited)
                raise DevdiagError(
                    f"applied migration {mid} was edited after it was applied ({names}); "
                    "landed steps are append-only: restore the file and add a new step"
                )
        missing = [m for m in self.recorded_checksums() if not migration_files(m)]
        if missing:
            raise DevdiagError(
                f"applied migration file(s) missing from migrations/: {', '.join(sorted(missing))}"
            )

    def record(self, mids: list[str]) -> None:
        for mid in mids:
            from psycopg.types.json import Jsonb

            self.lock_conn.execute(
                f"""INSERT INTO {META_SCHEMA}.migration_checksum (migration_id, sha256, file_sha256)
                    VALUES (%s, %s, %s)
                    ON CONFLICT (migration_id) DO UPDATE
                    SET sha256 = EXCLUDED.sha256, file_sha256 = EXCLUDED.file_sha256""",
                (mid, step_checksum(mid), Jsonb(file_checksums(mid))),
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

    def objects_fingerprint(self, conn) -> str:
        """What sql/ creates, as the catalog holds it: the definitions of views, functions and
        policies, and the privileges on every relation, so a hand-made change is put back."""
        return conn.execute(
            """SELECT md5(coalesce(string_agg(x, E'\n' ORDER BY x), '')) FROM (
                   SELECT 'v:' || n.nspname || '.' || c.relname || ':' || pg_get_viewdef(c.oid)
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname IN ('devdiag', 'devdiag_ref') AND c.relkind IN ('v', 'm')
                   UNION ALL
                   SELECT 'a:' || n.nspname || '.' || c.relname || ':' || coalesce(c.relacl::text, '')
                       || ':' || c.relrowsecurity || c.relforcerowsecurity
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname IN ('devdiag', 'devdiag_ref', 'devdiag_rollup') AND c.relkind IN ('r', 'p', 'v', 'm')
                   UNION ALL
                   SELECT 'f:' || p.oid::regprocedure::text || ':' || md5(p.prosrc)
                       || ':' || coalesce(p.proacl::text, '') || ':' || coalesce(p.proconfig::text, '')
                       || ':' || p.prosecdef
                   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname IN ('devdiag', 'devdiag_ref')
                   UNION ALL
                   SELECT 'p:' || c.relname || '.' || pol.polname || ':' || pol.polcmd::text || ':'
                       || pol.polpermissive || ':' || pol.polroles::text || ':'
                       || coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') || ':'
                       || coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '')
                   FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname IN ('devdiag', 'devdiag_rollup')) AS t (x)""").fetchone()[0]

    def repeatables_current(self) -> bool:
        """sql/ is applied as it is on disk, and nothing it made was dropped since."""
        row = self.lock_conn.execute(
            f"SELECT sha256, objects FROM {META_SCHEMA}.repeatable_state").fetchone()
        return bool(row) and row[0] == tree_checksum() and row[1] == self.objects_fingerprint(self.lock_conn)

    def apply_repeatables(self, only_if_changed: bool = False) -> None:
        """Re-apply sql/ in one transaction; retried when readers hold what it replaces."""
        import psycopg

        if only_if_changed and self.repeatables_current():
            self.say("sql/ unchanged since it was last applied; nothing to do")
            return
        for attempt in range(1, REAPPLY_ATTEMPTS + 1):
            try:
                self._apply_repeatables_once()
                return
            except psycopg.errors.LockNotAvailable:
                if attempt == REAPPLY_ATTEMPTS:
                    raise DevdiagError(
                        f"could not re-apply sql/: readers or writers held its views and tables through "
                        f"{REAPPLY_ATTEMPTS} tries of {REAPPLY_LOCK_TIMEOUT_MS / 1000:.0f} s; nothing was changed, "
                        "run make migrate again when they finish") from None
                self.say(f"sql/ is in use (lock timeout); retrying ({attempt}/{REAPPLY_ATTEMPTS})")
                time.sleep(min(2.0 * attempt, 10.0))

    def _apply_repeatables_once(self) -> None:
        import psycopg

        with connect(self.dsn) as conn:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = {int(REAPPLY_LOCK_TIMEOUT_MS)}")
                act_as_schema_owner(conn)
                self.drop_views(conn)
                for path in repeatable_files():
                    rel = path.relative_to(ROOT)
                    try:
                        conn.execute(path.read_text(encoding="utf-8"))
                    except psycopg.errors.LockNotAvailable:
                        raise
                    except psycopg.Error as exc:
                        msg = str(exc).strip().splitlines()[0]
                        raise DevdiagError(f"{rel}: {msg}") from None
                conn.execute("RESET ROLE")
                conn.execute(
                    f"""INSERT INTO {META_SCHEMA}.repeatable_state (singleton, sha256, applied_at, objects)
                        VALUES (true, %s, now(), %s)
                        ON CONFLICT (singleton) DO UPDATE
                        SET sha256 = EXCLUDED.sha256, applied_at = EXCLUDED.applied_at,
                            objects = EXCLUDED.objects""",
                    (tree_checksum(), self.objects_fingerprint(conn)),
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

    # -- the baseline ------------------------------------------------------
    def unreleased_steps(self, migrations) -> list[str]:
        """Steps yoyo recorded that are not in migrations/: the unreleased chain the baseline folds."""
        known = {m.id for m in migrations}
        if self.lock_conn.execute(f"SELECT to_regclass('{META_SCHEMA}._yoyo_migration')").fetchone()[0] is None:
            return []  # a new database: yoyo has recorded nothing yet
        rows = self.lock_conn.execute(f"SELECT migration_id FROM {META_SCHEMA}._yoyo_migration").fetchall()
        return sorted(r[0] for r in rows if r[0] not in known)

    def catalog_differences(self) -> list[str]:
        """What this database's steps built, against what the baseline builds: -expected / +found lines."""
        with self.lock_conn.transaction():
            # names in definitions come out schema-qualified, as in the file
            self.lock_conn.execute("SET LOCAL search_path TO pg_catalog")
            found = [r[0] for r in self.lock_conn.execute(
                BASELINE_CATALOG_SQL.read_text(encoding="utf-8")).fetchall()]
        expected = BASELINE_CATALOG.read_text(encoding="utf-8").splitlines()
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        return [f"- {line}" for line in missing] + [f"+ {line}" for line in extra]

    def adopt_unreleased(self, backend, migrations) -> None:
        """A database built by the unreleased steps: record the baseline in their place when the
        schema is what the baseline builds; refuse, naming what differs, when it is not."""
        old = self.unreleased_steps(migrations)
        if not old:
            return
        if PRE_BASELINE_LAST not in old:
            raise DevdiagError(
                f"this database was migrated by unreleased steps up to {old[-1]}, which {BASELINE} now folds; "
                f"migrate it with the commit tagged {PRE_BASELINE_TAG} first (git checkout {PRE_BASELINE_TAG} "
                f"&& make migrate), then with this one")
        differences = self.catalog_differences()
        if differences:
            shown = "\n  ".join(differences[:12])
            more = f"\n  ... and {len(differences) - 12} more" if len(differences) > 12 else ""
            raise DevdiagError(
                f"this database was migrated by the unreleased steps up to {PRE_BASELINE_LAST}, but its schema "
                f"differs from what {BASELINE} builds (- expected, + found):\n  {shown}{more}\n"
                "put those objects back as the steps left them, or back up the data, migrate an empty database "
                "and restore the data into it")
        baseline = migrations.__class__([m for m in migrations if m.id == BASELINE])
        if BASELINE not in self.applied_ids(backend, migrations):
            backend.mark_migrations(baseline)
        self.record([BASELINE])
        with self.lock_conn.transaction():
            self.lock_conn.execute(
                f"DELETE FROM {META_SCHEMA}._yoyo_migration WHERE migration_id = ANY(%s)", (old,))
            self.lock_conn.execute(
                f"DELETE FROM {META_SCHEMA}.migration_checksum WHERE migration_id = ANY(%s)", (old,))
        self.say(f"adopted: the schema built by {len(old)} unreleased steps is what {BASELINE} builds; "
                 f"{BASELINE} is recorded as applied in their place")

    # -- commands ------------------------------------------------------------
    def apply(self) -> int:
        backend = self.backend()
        migrations = self.migrations()
        self.adopt_unreleased(backend, migrations)
        applied = self.applied_ids(backend, migrations)
        self.check_drift(applied)
        self.record(applied)  # steps applied before checksums were kept
        pending = backend.to_apply(migrations)
        if pending:
            self.preflight()
            # Views depend on the tables a step may change; they come back below.
            self.drop_repeatables()
            for m in pending:
                self.say(f"applying {m.id}")
                try:
                    self.apply_step(backend, m)
                except DevdiagError:
                    raise
                except Exception as exc:  # yoyo re-raises the driver's error
                    raise DevdiagError(f"migration {m.id} failed: {error_text(exc)}") from None
                self.record([m.id])
        else:
            self.say("no pending migrations")
        self.apply_repeatables(only_if_changed=not pending)
        self.turn_jit_off()
        return 0

    def turn_jit_off(self, reset: bool = False) -> None:
        """New sessions of the database plan the dashboards cheaply (DATABASE_SETTINGS).

        JIT: the views read rollups, and compiling took most of a dashboard's
        time. constraint_exclusion: the run tables have a partition per day,
        and checking every partition's CHECK constraints took most of the
        planning of a query that reads runs; day bounds prune partitions
        without them. Per-database settings, which only the database's owner
        may change: as anyone else, migrate prints the statement for the
        owner to run.
        """
        from psycopg import sql

        c = self.lock_conn
        owner, configured = c.execute(
            """SELECT pg_has_role(current_user, d.datdba, 'MEMBER'),
                      coalesce((SELECT s.setconfig FROM pg_db_role_setting AS s
                                WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}')
               FROM pg_database AS d WHERE d.datname = current_database()""").fetchone()
        db = c.execute("SELECT current_database()").fetchone()[0]
        for name, value in DATABASE_SETTINGS.items():
            present = f"{name}={value}" in configured
            if present != reset:
                continue
            stmt = sql.SQL("ALTER DATABASE {} {}").format(
                sql.Identifier(db),
                sql.SQL("RESET {}").format(sql.Identifier(name)) if reset
                else sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.SQL(value)))
            if owner:
                c.execute(stmt)
                if not reset:
                    self.say(f"database {db}: {name} = {value} for new sessions")
            elif not reset:
                self.say(f"note: database {db} keeps its {name} setting; as its owner run: {stmt.as_string(c)};")

    def apply_step(self, backend, m) -> None:
        """Apply one step so that a kill at any point leaves it applied and recorded, or neither."""
        self._run_step(backend, m, "apply")

    def _run_step(self, backend, m, direction: str) -> None:
        m.load()
        if not m.use_transactions:
            self.drop_invalid_indexes()
            one = self.migrations().__class__([m])
            if direction == "apply" and self.already_done(m):
                # Killed after the build finished and before yoyo's record: record it.
                self.say(f"{m.id}: its indexes are already as the step leaves them; recording it")
                backend.mark_migrations(one)
                return
            if direction == "apply":
                backend.apply_migrations_only(one)
            else:
                backend.rollback_migrations(one)
            return
        step = backend.copy()  # acts as the schema owner
        try:
            with step.transaction():
                m.process_steps(step, direction)
                # yoyo's record, in the step's own transaction, as the login that keeps the books.
                step.execute("RESET ROLE")
                step.execute(f"SET LOCAL search_path TO {META_SCHEMA}")
                if direction == "apply":
                    step.mark_one(m, log=False)
                else:
                    step.unmark_one(m, log=False)
                step.log_migration(m, direction)
        finally:
            step.connection.close()

    def already_done(self, m) -> bool:
        """A non-transactional step whose CONCURRENTLY index builds and drops all took effect."""
        import re

        text = Path(m.path).read_text(encoding="utf-8")
        text = re.sub(r"--[^\n]*", "", text)
        made = re.findall(r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", text, re.I)
        dropped = re.findall(r"DROP\s+INDEX\s+CONCURRENTLY\s+(?:IF\s+EXISTS\s+)?(?:devdiag\.)?(\w+)", text, re.I)
        if not made and not dropped:
            return False
        valid = {r[0] for r in self.lock_conn.execute(
            """SELECT c.relname FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
               WHERE c.relnamespace = 'devdiag'::regnamespace AND i.indisvalid""").fetchall()}
        present = {r[0] for r in self.lock_conn.execute(
            "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'devdiag'::regnamespace AND c.relkind = 'i'"
        ).fetchall()}
        return all(n in valid for n in made) and not any(n in present for n in dropped)

    def drop_invalid_indexes(self) -> None:
        """Drop the indexes a killed CREATE INDEX CONCURRENTLY left invalid, so its step can run again."""
        from psycopg import sql

        rows = self.lock_conn.execute(
            """SELECT n.nspname, c.relname FROM pg_index AS i
               JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
               WHERE n.nspname = 'devdiag' AND NOT i.indisvalid""").fetchall()
        for schema, name in rows:
            self.say(f"dropping index {schema}.{name}, left invalid by an interrupted build")
            act_as_schema_owner(self.lock_conn)
            self.lock_conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(
                sql.Identifier(schema, name)))
            self.lock_conn.execute("RESET ROLE")

    def preflight(self) -> None:
        """Refuse before the first step when the login cannot finish them all.

        The group roles are cluster-wide: a login that lacks CREATEROLE where
        they are missing, or is not a member of devdiag_owner and may not
        grant it to itself, would otherwise stop half way, with the first
        steps applied.  The message gives the statements an administrator runs.
        """
        import psycopg

        c = self.lock_conn
        login, quoted = c.execute("SELECT current_user, quote_ident(current_user)").fetchone()
        missing, can_create, member = c.execute(
            """SELECT array(SELECT w FROM unnest(%s::text[]) AS w
                            WHERE NOT EXISTS (SELECT FROM pg_roles AS r WHERE r.rolname = w)),
                      (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user),
                      EXISTS (SELECT FROM pg_roles WHERE rolname = 'devdiag_owner')
                      AND pg_has_role(current_user, 'devdiag_owner', 'USAGE')""",
            (list(GROUP_ROLES),)).fetchone()
        if missing and not can_create:
            create = " ".join(f"CREATE ROLE {r} NOLOGIN;" for r in missing)
            raise DevdiagError(
                f"the group role(s) {', '.join(missing)} do not exist and {login} lacks CREATEROLE to create them; "
                f"nothing was applied. An administrator runs: {create} GRANT devdiag_owner TO {quoted};"
                f" (or: ALTER ROLE {quoted} CREATEROLE;)")
        if "devdiag_owner" not in missing and not member:
            try:
                with c.transaction():
                    c.execute("GRANT devdiag_owner TO CURRENT_USER")
            except psycopg.errors.InsufficientPrivilege:
                raise DevdiagError(
                    f"{login} is not a member of devdiag_owner and may not grant it to itself; nothing was "
                    f"applied. A role with ADMIN OPTION on devdiag_owner runs: GRANT devdiag_owner TO {quoted};"
                ) from None

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
                self._run_step(backend, m, "rollback")
            except DevdiagError:
                raise
            except Exception as exc:
                raise DevdiagError(f"rollback of {m.id} failed: {error_text(exc)}") from None
            self.lock_conn.execute(
                f"DELETE FROM {META_SCHEMA}.migration_checksum WHERE migration_id = %s", (m.id,))
        left = self.applied_ids(backend, migrations)
        if left:
            self.say(f"{len(left)} step(s) still applied; views and sql/ come back with the next migrate")
        else:
            # Nothing is left to keep books on: the database returns to empty.
            backend.connection.close()
            self.guard_conn.rollback()  # the lock row goes with the schema
            self.lock_conn.execute(f"DROP SCHEMA IF EXISTS {META_SCHEMA} CASCADE")
            self.turn_jit_off(reset=True)
            self.say(f"all steps rolled back: the devdiag and {META_SCHEMA} schemas are gone")
        return 0

    def status(self) -> int:
        backend = self.backend()
        migrations = self.migrations()
        applied = set(self.applied_ids(backend, migrations))
        drifted = self.drifted(applied)
        for m in migrations:
            state = "applied" if m.id in applied else "pending"
            note = ""
            if m.id in drifted:
                note = "  EDITED AFTER APPLY: " + ", ".join(drifted[m.id])
            self.say(f"{state:8} {m.id}{note}")
        row = self.lock_conn.execute(
            f"SELECT sha256, applied_at FROM {META_SCHEMA}.repeatable_state").fetchone()
        if row is None:
            self.say("sql/     not applied (run make migrate)")
        elif row[0] != tree_checksum():
            self.say(f"sql/     changed since last apply at {row[1]:%Y-%m-%d %H:%M:%S%z} (run make migrate)")
        else:
            self.say(f"sql/     up to date (applied {row[1]:%Y-%m-%d %H:%M:%S%z})")
        old = self.unreleased_steps(migrations)
        if old:
            self.say(f"unreleased {len(old)} steps up to {old[-1]}: make migrate adopts them as {BASELINE} "
                     "when the schema matches")
        pending = len(migrations) - len(applied) - (1 if old and BASELINE not in applied else 0)
        summary = f"summary: {len(applied)} applied, {pending} pending, {len(drifted)} edited after apply"
        if drifted:
            summary += " (" + "; ".join(f"{mid}: {', '.join(files)}" for mid, files in sorted(drifted.items())) + ")"
        self.say(summary)
        return 1 if drifted else 0

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
    add_dsn_option(ap)
    ap.add_argument("--lock-wait", type=float, default=None,
                    help="seconds to wait for another migrate run (default: DEVDIAG_MIGRATE_LOCK_WAIT, else 600)")
    args = ap.parse_args(argv)
    # Only apply may create the local cluster; the other commands read or undo what exists.
    dsn = resolve_dsn(args.dsn, create_local=args.command == "apply")
    with Migrator(dsn, lock_wait=args.lock_wait) as m:
        if args.command == "apply":
            return m.apply()
        if args.command == "rollback":
            return m.rollback(all_steps=args.all)
        if args.command == "status":
            return m.status()
        return m.reapply()


if __name__ == "__main__":
    sys.exit(main())
