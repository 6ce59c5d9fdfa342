"""Restore a backup set written by backup.py, then bring sql/ and migrations in line.

    devdiag-restore SET                   onto an empty database (the DSN's, or --create it)
    devdiag-restore SET --clean           over an existing warehouse (one transaction)
    devdiag-restore latest [--dir DIR]    the newest complete set in the backup folder

Steps, each stopping with one clear line when it fails:

1. verify the set: every file's SHA-256 against the manifest, then
   ``pg_restore --list`` (a damaged or truncated dump stops here);
2. ``roles.sql``: create missing roles, memberships and database grants;
3. extensions the dump's objects need (created when missing);
4. ``pg_restore``: onto an empty database in parallel (``--jobs``), or with
   ``--clean --if-exists --single-transaction`` over an existing one, so a
   failure leaves the old warehouse untouched;
5. migrations: refuse drift (a step edited since the backup was taken, or a
   step this checkout does not have); apply pending steps with ``--migrate``
   (a backup older than the code), and re-apply ``sql/``;
6. ``cron.sql``: re-schedule the pg_cron jobs, only when restoring into a
   database of the same name as the one backed up (a restore into a scratch
   database must not re-point production jobs; ``make jobs`` schedules them
   for a new database).

A bare archive (a ``pg_dump -Fc`` file or ``-Fd`` folder without a manifest) is
accepted too: steps 1 (``pg_restore --list`` only), 4 and 5 run.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from .backup import (
    SET_RE,
    default_dir,
    dsn_for_database,
    list_archive,
    locate_cron,
    verify_set,
    warn,
)
from .config import (
    DevdiagError,
    add_dsn_option,
    connect,
    libpq_dsn,
    main_guard,
    redact,
    resolve_dsn,
)
from .migrate import Migrator
from .pgtools import bindir_for_server, run_tool


def say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, flush=True)


def latest_set(backup_dir: Path, dbname: str | None = None) -> Path:
    sets = []
    for p in backup_dir.iterdir() if backup_dir.exists() else []:
        m = SET_RE.match(p.name)
        if m and not m.group("partial") and (p / "manifest.json").exists() and (dbname in (None, m.group("db"))):
            sets.append((m.group("stamp"), p))
    if not sets:
        raise DevdiagError(f"no complete backup set in {backup_dir}")
    return max(sets)[1]


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def create_database(dsn: str) -> None:
    """Create the DSN's database (owned by the DSN's login) if it does not exist."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    dbname = conninfo_to_dict(libpq_dsn(dsn)).get("dbname")
    if not dbname:
        raise DevdiagError("--create needs a database name in the DSN")
    with connect(dsn_for_database(dsn, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        except psycopg.errors.InsufficientPrivilege:
            raise DevdiagError(
                f"cannot create database {dbname}: the login lacks CREATEDB (usual for the owner of a managed "
                "database); create it as an administrator (CREATE DATABASE ... OWNER <login>) and restore "
                "into it without --create") from None
        except psycopg.Error as exc:
            raise DevdiagError(f"cannot create database {dbname}: {first_line(exc)}") from None


# pg_restore --clean drops the constraints of a partition one by one, which
# PostgreSQL refuses for those its parent's keys gave it: the partitioned run
# tables go first (with their partitions), in the same transaction.
DROP_PARTITIONED_RUNS = "DROP TABLE IF EXISTS devdiag.diag_run, devdiag.diag_run_archive CASCADE;\n"


def restore_over(bindir: Path, args: list[str], dsn: str) -> None:
    """pg_restore --clean as a script, run by psql in one transaction after dropping the partitioned tables."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "restore.sql"
        pre = Path(tmp) / "pre.sql"
        pre.write_text(DROP_PARTITIONED_RUNS, encoding="utf-8")
        run_tool(bindir / "pg_restore", [*args[:-1], f"--file={script}", args[-1]], what="pg_restore")
        run_tool(bindir / "psql", ["-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                                   f"--file={pre}", f"--file={script}"], dsn=dsn, what="pg_restore (psql)")


def run_sql_file(dsn: str, path: Path, what: str) -> None:
    import psycopg

    with connect(dsn, autocommit=True) as conn:
        try:
            conn.execute(path.read_text(encoding="utf-8"))
        except psycopg.Error as exc:
            raise DevdiagError(f"{what} ({path.name}) failed: {first_line(exc)}") from None


def ensure_extensions(dsn: str, exts: list[dict], dumped_schemas: list[str]) -> None:
    import psycopg
    from psycopg import sql

    with connect(dsn, autocommit=True) as conn:
        for ext in exts:
            if conn.execute("SELECT 1 FROM pg_extension WHERE extname = %s", (ext["name"],)).fetchone():
                continue
            if ext["schema"] in dumped_schemas:
                warn(f"extension {ext['name']} lived in {ext['schema']}, which the dump re-creates; "
                     "create it afterwards if objects need it")
                continue
            stmt = sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA {}").format(
                sql.Identifier(ext["name"]), sql.Identifier(ext["schema"]))
            try:
                conn.execute(stmt)
            except psycopg.Error as exc:
                raise DevdiagError(
                    f"the backup needs extension {ext['name']} (schema {ext['schema']}): {first_line(exc)}; "
                    "ask the DBA to create it, then restore again") from None


def warehouse_present(dsn: str) -> bool:
    with connect(dsn) as conn:
        return conn.execute(
            r"""SELECT EXISTS (SELECT FROM pg_namespace
                               WHERE nspname = 'devdiag' OR nspname LIKE 'devdiag\_%')""").fetchone()[0]


#: re-applying sql/ right after a restore may deadlock with autovacuum on the new tables; it is one
#: transaction, rolled back whole, so it is tried again
DEADLOCK_RETRIES = 3


def check_migrations(dsn: str, migrate: bool, quiet: bool) -> list[str]:
    """Refuse drift; apply pending steps (with migrate) and re-apply sql/. Return pending ids."""
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            return _check_migrations(dsn, migrate, quiet)
        except DevdiagError as exc:
            if "deadlock detected" not in str(exc) or attempt == DEADLOCK_RETRIES:
                raise
            say(f"  {exc}: trying again", quiet)
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def _check_migrations(dsn: str, migrate: bool, quiet: bool) -> list[str]:
    out = io.StringIO()
    with Migrator(dsn, out=out) as m:
        backend = m.backend()
        migrations = m.migrations()
        applied = m.applied_ids(backend, migrations)
        # The backup's recorded checksums against this checkout's files.
        m.check_drift(applied)
        pending = [mig.id for mig in backend.to_apply(migrations)]
        if pending and migrate:
            m.apply()
            pending = []
        elif not pending:
            m.reapply()
    for line in out.getvalue().splitlines():
        say(f"  {line}", quiet)
    return pending


def restore_cron(set_dir: Path, manifest: dict, target_db: str, dsn: str, cron_dsn: str | None,
                 enabled: bool, quiet: bool) -> int:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    path = set_dir / "cron.sql"
    if not path.exists():
        return 0
    if not enabled:
        say("pg_cron jobs not restored (--no-cron)", quiet)
        return 0
    if target_db != manifest["database"]:
        say(f"pg_cron jobs not restored: they run in database {manifest['database']!r}, this restore went into "
            f"{target_db!r}; run `make jobs` against it to schedule its jobs", quiet)
        return 0
    with connect(dsn, autocommit=True) as conn:
        target, reason = locate_cron(conn, dsn, cron_dsn)
    if target is None:
        warn(f"the backup has pg_cron jobs ({path}), but {reason or 'pg_cron is not loaded on this server'}: "
             "schedule them with `make jobs` or system cron")
        return 0
    cron_db = conninfo_to_dict(libpq_dsn(target)).get("dbname")
    statements = [ln for ln in path.read_text().splitlines() if ln.startswith("SELECT cron.")]
    done = 0
    with connect(target, autocommit=True) as cc:
        for stmt in statements:
            try:
                cc.execute(stmt)
                done += 1
            except psycopg.Error as exc:
                warn(f"pg_cron job not restored ({first_line(exc)}): run {path} as a role that may schedule it")
    say(f"re-scheduled {done} of {len(statements)} pg_cron jobs in {cron_db}", quiet)
    return done


def forget_grants_of_other_roles(dsn: str) -> int:
    """Delete tenant grants whose role is gone here: the dump names a dropped role by its bare OID,
    which in this cluster may belong to another role (the grant keeps the name it was made to)."""
    with connect(dsn, autocommit=True) as conn:
        if not conn.execute(
                """SELECT 1 FROM pg_attribute
                   WHERE attrelid = to_regclass('devdiag.tenant_grant') AND attname = 'grantee_name'""").fetchone():
            return 0
        return conn.execute("""DELETE FROM devdiag.tenant_grant AS g
                               WHERE pg_get_userbyid(g.grantee) IS DISTINCT FROM g.grantee_name""").rowcount


def empty_again(dsn: str) -> str:
    """Drop what a failed restore into an empty database left there; say what happened."""
    import psycopg
    from psycopg import sql

    try:
        with connect(dsn, autocommit=True) as conn:
            schemas = [r[0] for r in conn.execute(
                r"""SELECT nspname FROM pg_namespace WHERE nspname = 'devdiag' OR nspname LIKE 'devdiag\_%'
                   ORDER BY 1""").fetchall()]
            if schemas:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier(s) for s in schemas)))
    except psycopg.Error as exc:
        return (f"the database is partly restored and could not be emptied ({first_line(exc)}): "
                "drop the devdiag schemas before restoring again")
    return "the database was emptied again, nothing of the backup is left in it"


def restore(source: Path, dsn: str, clean: bool = False, jobs: int = 2, create: bool = False,
            migrate: bool = False, cron: bool = True, cron_dsn: str | None = None, quiet: bool = False) -> dict:
    """Restore a backup set (or bare archive) into the DSN's database; return a summary."""
    source = Path(source)
    if not source.exists():
        raise DevdiagError(f"{source}: no such backup")
    if (source / "manifest.json").exists():
        manifest = verify_set(source)
        archive = source / manifest["archive"]
        set_dir: Path | None = source
        dump_major = int(manifest.get("pg_dump_major") or manifest["server_major"])
    else:
        manifest, set_dir, archive = None, None, source
        dump_major = None
    if create:
        create_database(dsn)
    with connect(dsn) as conn:
        target_db = conn.info.dbname
        server_major = conn.info.server_version // 10000
    bindir = bindir_for_server(max(server_major, dump_major or 0))
    toc = list_archive(bindir, archive)  # a bare archive's only check; cheap for a set
    if warehouse_present(dsn) and not clean:
        raise DevdiagError(f"database {target_db} already holds a devdiag schema: restore over it with --clean, "
                           "or into an empty database")
    if manifest is not None:
        run_sql_file(dsn, set_dir / "roles.sql", "restoring roles")
        ensure_extensions(dsn, manifest.get("extensions", []), manifest["schemas"])
    # row_security on: under FORCE ROW LEVEL SECURITY the owner's own foreign-key
    # checks read through the policies (with it off they fail outright); data is
    # loaded before pg_restore enables RLS, so COPY is not affected.
    args = ["--exit-on-error", "--no-password", "--enable-row-security"]
    if clean:
        args += ["--clean", "--if-exists"]
    elif jobs > 1:
        args.append(f"--jobs={jobs}")
    args.append(str(archive))
    say(f"restoring {source} into {target_db} ({len(toc)} entries"
        f"{', over the existing warehouse' if clean else ''})", quiet)
    try:
        if clean:
            restore_over(bindir, args, dsn)
        else:
            run_tool(bindir / "pg_restore", args, dsn=dsn, what="pg_restore")
    except DevdiagError as exc:
        # Over an existing warehouse pg_restore ran as one transaction; into an
        # empty database nothing half-restored may stay behind.
        raise DevdiagError(f"{exc} ({'nothing was changed' if clean else empty_again(dsn)})") from None
    try:
        forgotten = forget_grants_of_other_roles(dsn)
        if forgotten:
            say(f"dropped {forgotten} tenant grant(s) of roles that no longer exist", quiet)
        pending = check_migrations(dsn, migrate, quiet)
    except DevdiagError as exc:
        if clean:
            raise
        raise DevdiagError(f"{exc} ({empty_again(dsn)})") from None
    if pending:
        say(f"note: the backup predates {len(pending)} migration(s) of this checkout ({', '.join(pending)}): "
            "run `make migrate` (or restore with --migrate) to bring it up to date", quiet)
    jobs_done = restore_cron(set_dir, manifest, target_db, dsn, cron_dsn, cron, quiet) if manifest else 0
    say(f"restored {source.name} into {target_db}", quiet)
    return {"database": target_db, "pending": pending, "cron_jobs": jobs_done}


@main_guard
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a backup set folder, a bare pg_dump archive, or 'latest'")
    add_dsn_option(ap, "the database to restore into")
    ap.add_argument("--dir", type=Path, default=None, help="backup folder for 'latest' (default backups/)")
    ap.add_argument("--clean", action="store_true", help="restore over an existing warehouse (one transaction)")
    ap.add_argument("--create", action="store_true", help="create the target database when it does not exist")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="parallel pg_restore workers")
    ap.add_argument("--migrate", action="store_true", help="apply migrations newer than the backup")
    ap.add_argument("--no-cron", action="store_true", help="do not re-schedule the backup's pg_cron jobs")
    ap.add_argument("--cron-dsn", help="DSN of the database pg_cron lives in")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    dsn = resolve_dsn(args.dsn, create_local=True)
    source = latest_set(args.dir or default_dir()) if args.source == "latest" else Path(args.source)
    try:
        restore(source, dsn, args.clean, args.jobs, args.create, args.migrate, not args.no_cron, args.cron_dsn,
                args.quiet)
    except DevdiagError as exc:
        raise DevdiagError(f"{exc} [{redact(dsn)}]") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
