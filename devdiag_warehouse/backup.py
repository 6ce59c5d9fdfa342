"""Back up the warehouse: a verified pg_dump, with its roles and pg_cron jobs.

    devdiag-backup [--dir DIR] [--format directory|custom] [--jobs N] [--keep-days N]
    devdiag-backup --verify DIR/<set>     re-check an existing backup set

Each run writes one backup set, a folder named ``<database>-<UTC time>`` in
``--dir`` (``DEVDIAG_BACKUP_DIR``, default ``backups/``):

* ``dump/`` (directory format, dumped in parallel with ``--jobs``) or
  ``dump.pgdump`` (custom format): every schema the warehouse owns
  (``devdiag`` and every ``devdiag_*`` schema, so the archive, rollups,
  settings, the role-to-tenant map, sync watermarks and the migration
  bookkeeping all travel together);
* ``roles.sql``: the roles the dump refers to (owners, grantees, policy
  roles, roles the tenant map grants tenants to, and their members) with their memberships and database grants, which a
  database dump does not hold; re-runnable, passwords are never written;
* ``cron.sql``: the pg_cron jobs that run in this database, when pg_cron is
  present and its jobs are readable;
* ``manifest.json``: size and SHA-256 of every file, the tables the dump must
  contain, the applied migrations, and what ``pg_restore --list`` found.

The set is written under ``<name>.partial`` and renamed only once
``pg_restore --list`` has read it back and found every table's data, so a
folder without that suffix is always a complete, verified backup.  Sets of the
same database older than ``--keep-days`` (30) are then deleted, but never the
newest complete one.

Row-level security: pg_dump turns ``row_security`` off, so a dump either holds
every row or fails.  A role that bypasses RLS (superuser or BYPASSRLS) dumps
that way; any other role dumps through the policies (``--enable-row-security``)
and must therefore be one the policies let read every row (see the README).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .config import (
    ROOT,
    DevdiagError,
    add_dsn_option,
    connect,
    libpq_dsn,
    main_guard,
    redact,
    resolve_dsn,
)
from .pgtools import bindir_for_server, first_error, run_tool, tool_major

MANIFEST_VERSION = 1
SET_RE = re.compile(r"^(?P<db>.+)-(?P<stamp>\d{8}T\d{6}Z)(?P<partial>\.partial)?$")
STAMP_FMT = "%Y%m%dT%H%M%SZ"
PRIVILEGED_ATTRS = [("rolsuper", "SUPERUSER"), ("rolreplication", "REPLICATION"), ("rolbypassrls", "BYPASSRLS")]


def say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, flush=True)


def warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dsn_for_database(dsn: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(libpq_dsn(dsn))
    params["dbname"] = dbname
    return make_conninfo(**{k: str(v) for k, v in params.items()})


# --------------------------------------------------------------------------
# What the warehouse owns
# --------------------------------------------------------------------------

def warehouse_schemas(conn, extra: list[str]) -> list[str]:
    rows = conn.execute(
        r"""SELECT nspname FROM pg_namespace
            WHERE nspname = 'devdiag' OR nspname LIKE 'devdiag\_%%' OR nspname = ANY(%s)
            ORDER BY nspname""",
        (extra,),
    ).fetchall()
    schemas = [r[0] for r in rows]
    if "devdiag" not in schemas:
        raise DevdiagError("the database has no devdiag schema: nothing to back up (run make migrate first?)")
    return schemas


def tables_with_data(conn, schemas: list[str]) -> list[str]:
    """Tables whose rows the dump must hold (partitioned parents hold none)."""
    rows = conn.execute(
        """SELECT n.nspname || '.' || c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY(%s) AND c.relkind = 'r'
             AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
           ORDER BY 1""",
        (schemas,),
    ).fetchall()
    return [r[0] for r in rows]


def rls_mode(conn, schemas: list[str]) -> tuple[bool, list[str], list[str]]:
    """(dump through row security?, tables with RLS enabled, tables whose rows the role may not all read).

    A role that bypasses RLS dumps with row_security off. Any other role dumps
    through the policies; that is complete only where a permissive policy
    USING (true) for SELECT applies to it and no restrictive one does (the
    owner policy of sql/policies/200_tenant_row_security.sql is such a policy).
    """
    bypass = conn.execute(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    rls_tables = [r[0] for r in conn.execute(
        """SELECT n.nspname || '.' || c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY(%s) AND c.relrowsecurity ORDER BY 1""", (schemas,)).fetchall()]
    if bypass or not rls_tables:
        return False, rls_tables, []
    hidden = [r[0] for r in conn.execute(
        """SELECT n.nspname || '.' || c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY(%s) AND c.relrowsecurity
             AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
             AND (
               NOT EXISTS (
                 SELECT FROM pg_policy p
                 WHERE p.polrelid = c.oid AND p.polpermissive AND p.polcmd IN ('r', '*')
                   AND pg_get_expr(p.polqual, p.polrelid) = 'true'
                   AND (0 = ANY(p.polroles)
                        OR EXISTS (SELECT FROM unnest(p.polroles) AS r (oid)
                                   WHERE pg_has_role(current_user, r.oid, 'USAGE'))))
               OR EXISTS (
                 SELECT FROM pg_policy p
                 WHERE p.polrelid = c.oid AND NOT p.polpermissive AND p.polcmd IN ('r', '*')
                   AND coalesce(pg_get_expr(p.polqual, p.polrelid), 'true') <> 'true'
                   AND (0 = ANY(p.polroles)
                        OR EXISTS (SELECT FROM unnest(p.polroles) AS r (oid)
                                   WHERE pg_has_role(current_user, r.oid, 'USAGE')))))
           ORDER BY 1""", (schemas,)).fetchall()]
    return True, rls_tables, hidden


def applied_migrations(conn) -> list[str]:
    if not conn.execute("SELECT to_regclass('devdiag_meta.migration_checksum')").fetchone()[0]:
        return []
    return [r[0] for r in conn.execute(
        "SELECT migration_id FROM devdiag_meta.migration_checksum ORDER BY migration_id").fetchall()]


def extensions(conn) -> list[dict]:
    """Extensions the warehouse's objects may need; pg_cron is handled apart (cron.sql)."""
    rows = conn.execute(
        """SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
           WHERE e.extname NOT IN ('plpgsql', 'pg_cron') ORDER BY 1""").fetchall()
    return [{"name": r[0], "schema": r[1]} for r in rows]


# --------------------------------------------------------------------------
# roles.sql
# --------------------------------------------------------------------------

ROLES_QUERY = """
WITH RECURSIVE s AS (
    SELECT oid FROM pg_namespace WHERE nspname = ANY(%(schemas)s)
),
direct AS (
    SELECT nspowner AS r FROM pg_namespace WHERE oid IN (SELECT oid FROM s)
    UNION SELECT (aclexplode(nspacl)).grantee FROM pg_namespace WHERE oid IN (SELECT oid FROM s)
    UNION SELECT relowner FROM pg_class WHERE relnamespace IN (SELECT oid FROM s)
    UNION SELECT (aclexplode(relacl)).grantee FROM pg_class WHERE relnamespace IN (SELECT oid FROM s)
    UNION SELECT (aclexplode(a.attacl)).grantee FROM pg_attribute AS a
        JOIN pg_class AS c ON c.oid = a.attrelid WHERE c.relnamespace IN (SELECT oid FROM s)
    UNION SELECT proowner FROM pg_proc WHERE pronamespace IN (SELECT oid FROM s)
    UNION SELECT (aclexplode(proacl)).grantee FROM pg_proc WHERE pronamespace IN (SELECT oid FROM s)
    UNION SELECT typowner FROM pg_type WHERE typnamespace IN (SELECT oid FROM s)
    UNION SELECT (aclexplode(typacl)).grantee FROM pg_type WHERE typnamespace IN (SELECT oid FROM s)
    UNION SELECT unnest(p.polroles) FROM pg_policy AS p
        JOIN pg_class AS c ON c.oid = p.polrelid WHERE c.relnamespace IN (SELECT oid FROM s)
    UNION SELECT defaclrole FROM pg_default_acl WHERE defaclnamespace IN (SELECT oid FROM s)
    UNION SELECT (aclexplode(defaclacl)).grantee FROM pg_default_acl
        WHERE defaclnamespace IN (SELECT oid FROM s)
    UNION SELECT unnest(%(granted)s::oid[])
    UNION SELECT datdba FROM pg_database WHERE datname = current_database()
    UNION SELECT (aclexplode(datacl)).grantee FROM pg_database WHERE datname = current_database()
),
closure AS (
    SELECT r FROM direct WHERE r <> 0
    UNION
    SELECT m.member FROM pg_auth_members AS m JOIN closure AS c ON m.roleid = c.r
)
SELECT r.oid, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil,
       shobj_description(r.oid, 'pg_authid')
FROM pg_roles AS r
WHERE r.oid IN (SELECT r FROM closure) AND r.rolname !~ '^pg_' AND r.oid <> 10
ORDER BY r.rolname
"""


def dollar_tag(body: str) -> str:
    n = 0
    while f"$r{n}$" in body:
        n += 1
    return f"$r{n}$"


def do_block(body: str) -> str:
    tag = dollar_tag(body)
    return f"DO {tag}\nBEGIN\n{body}\nEND\n{tag};\n"


def roles_sql(conn, schemas: list[str], dbname: str, stamp: str) -> tuple[str, list[str]]:
    """A re-runnable SQL file recreating the roles the dump refers to."""
    from psycopg import sql

    def ident(name: str) -> str:
        return sql.Identifier(name).as_string(conn)

    def lit(value) -> str:
        return sql.Literal(value).as_string(conn)

    # Roles the tenant map names (a tenant group role like tenants_emea holds no
    # privilege, only rows there): the restore's COPY needs each of them.
    granted = []
    if conn.execute("SELECT to_regclass('devdiag.tenant_grant')").fetchone()[0]:
        granted = [r[0] for r in conn.execute("SELECT DISTINCT grantee::oid FROM devdiag.tenant_grant")]
    roles = conn.execute(ROLES_QUERY, {"schemas": schemas, "granted": granted}).fetchall()
    names = {r[0]: r[1] for r in roles}
    out = [
        f"-- Roles of the DevDiag warehouse {dbname!r}, written by devdiag-backup at {stamp}.",
        "-- A database dump holds no roles: restore.py runs this file before pg_restore.",
        "-- Re-runnable: a role that exists is left as it is; missing memberships and database",
        "-- grants are added. Passwords and per-role settings are not saved: set passwords again",
        "-- (ALTER ROLE ... PASSWORD) or use the service's IAM logins.",
        "",
    ]
    for (_oid, name, sup, inherit, createrole, createdb, login, repl, bypass, connlimit, valid, comment) in roles:
        attrs = ["LOGIN" if login else "NOLOGIN", "INHERIT" if inherit else "NOINHERIT"]
        if createrole:
            attrs.append("CREATEROLE")
        if createdb:
            attrs.append("CREATEDB")
        if connlimit is not None and connlimit >= 0:
            attrs.append(f"CONNECTION LIMIT {int(connlimit)}")
        if valid is not None:
            attrs.append(f"VALID UNTIL {lit(valid.isoformat())}")
        body = [f"    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {lit(name)}) THEN",
                f"        CREATE ROLE {ident(name)} {' '.join(attrs)};"]
        wanted = [kw for col, kw in zip((sup, repl, bypass), [k for _, k in PRIVILEGED_ATTRS]) if col]
        if wanted:
            # Only a superuser may hand these out; say so rather than fail the restore.
            body += [
                "        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN",
                f"            ALTER ROLE {ident(name)} {' '.join(wanted)};",
                "        ELSE",
                f"            RAISE WARNING 'role % needs {' '.join(wanted)}: ask a superuser to grant it', "
                f"{lit(name)};",
                "        END IF;",
            ]
        if comment:
            body.append(f"        COMMENT ON ROLE {ident(name)} IS {lit(comment)};")
        body.append("    END IF;")
        out.append(do_block("\n".join(body)))
    # PostgreSQL 16+ keeps INHERIT and SET per membership (and gives a role's
    # creator an ADMIN-only one); before 16 a member inherits as its rolinherit
    # says and may always SET ROLE.
    options = ("bool_or(am.inherit_option), bool_or(am.set_option)" if conn.info.server_version >= 160000
               else "bool_or(m.rolinherit), true")
    members = conn.execute(
        f"""SELECT g.rolname, m.rolname, bool_or(am.admin_option), {options}
            FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
            WHERE am.roleid = ANY(%s) AND am.member = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2""",
        (list(names), list(names)),
    ).fetchall()
    if members:
        out.append("-- Memberships: logins inherit what their group roles may do. On PostgreSQL 16+ a")
        out.append("-- membership must also carry INHERIT and SET (a role's creator holds an ADMIN-only one).")
    for group, member, admin, inherit, set_ in members:
        where = f"g.rolname = {lit(group)} AND m.rolname = {lit(member)}"
        pg16_options = f"INHERIT {'TRUE' if inherit else 'FALSE'}, SET {'TRUE' if set_ else 'FALSE'}"
        member_rows = ("SELECT FROM pg_auth_members AS am JOIN pg_roles AS g ON g.oid = am.roleid "
                       f"JOIN pg_roles AS m ON m.oid = am.member WHERE {where}")
        pg16 = [
            "    IF current_setting('server_version_num')::integer >= 160000 THEN",
            f"        IF NOT EXISTS ({member_rows} GROUP BY g.oid, m.oid",
            f"                       HAVING bool_or(am.inherit_option) = {'true' if inherit else 'false'}",
            f"                          AND bool_or(am.set_option) = {'true' if set_ else 'false'}) THEN",
            # EXECUTE: before 16 the parser refuses these options even in a branch never taken.
            "            EXECUTE " + lit(f"GRANT {ident(group)} TO {ident(member)} WITH {pg16_options}") + ";",
            "        END IF;",
        ]
        if admin:
            pg16 += [
                f"        IF NOT EXISTS ({member_rows} AND am.admin_option) THEN",
                f"            GRANT {ident(group)} TO {ident(member)} WITH ADMIN OPTION;",
                "        END IF;",
            ]
        out.append(do_block("\n".join(pg16 + [
            f"    ELSIF NOT EXISTS ({member_rows}) THEN",
            f"        GRANT {ident(group)} TO {ident(member)}{' WITH ADMIN OPTION' if admin else ''};",
            "    END IF;",
        ])))
    grants = conn.execute(
        """SELECT a.grantee, a.privilege_type FROM pg_database d, aclexplode(d.datacl) a
           WHERE d.datname = current_database() AND a.grantee <> d.datdba ORDER BY 1, 2""").fetchall()
    has_acl = conn.execute(
        "SELECT datacl IS NOT NULL FROM pg_database WHERE datname = current_database()").fetchone()[0]
    if has_acl:
        out.append("-- Database grants, applied to whichever database this file is run in.")
        public_privs = {p for g, p in grants if g == 0}
        for priv in ("CONNECT", "TEMPORARY"):
            if priv not in public_privs:
                out.append(do_block(
                    f"    EXECUTE format('REVOKE {priv} ON DATABASE %I FROM PUBLIC', current_database());"))
        for grantee, priv in grants:
            if grantee == 0 or grantee not in names:
                continue
            out.append(do_block(
                f"    EXECUTE format('GRANT {priv} ON DATABASE %I TO %I', current_database(), "
                f"{lit(names[grantee])});"))
    return "\n".join(out) + "\n", sorted(names.values())


# --------------------------------------------------------------------------
# cron.sql
# --------------------------------------------------------------------------

def locate_cron(conn, dsn: str, cron_dsn: str | None) -> tuple[str | None, str | None]:
    """(DSN of the database pg_cron lives in, or None; why not, when pg_cron is there but unreachable).

    ``cron.database_name`` is readable only by superusers and pg_read_all_settings;
    other roles look for the extension in this database, then in ``postgres``
    (where managed services put it).
    """
    import psycopg

    if cron_dsn:
        return cron_dsn, None
    if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron'").fetchone():
        return None, None
    try:
        with conn.transaction():
            cron_db = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0]
        if not cron_db:
            return None, None  # installed, not preloaded: no jobs can exist
        candidates = [cron_db]
    except psycopg.errors.InsufficientPrivilege:
        candidates = [conn.info.dbname, "postgres"]
    for db in candidates:
        target = dsn_for_database(dsn, db)
        try:
            with psycopg.connect(libpq_dsn(target), autocommit=True) as cc:
                if cc.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone():
                    return target, None
        except psycopg.Error:
            continue
    return None, (f"pg_cron is installed but was not found in {', '.join(candidates)}: "
                  "pass --cron-dsn (the database named by cron.database_name)")


def cron_sql(conn, dsn: str, dbname: str, stamp: str, cron_dsn: str | None) -> tuple[str | None, dict]:
    """The pg_cron jobs that run in this database, as re-runnable schedule calls."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    target, reason = locate_cron(conn, dsn, cron_dsn)
    if target is None:
        return None, ({"present": True, "saved": False, "reason": reason} if reason else {"present": False})
    cron_db = conninfo_to_dict(libpq_dsn(target)).get("dbname")
    info = {"present": True, "database": cron_db, "saved": False, "jobs": 0}
    try:
        with psycopg.connect(libpq_dsn(target), autocommit=True) as cc:
            jobs = cc.execute(
                """SELECT jobname, schedule, command, database, username, active FROM cron.job
                   WHERE database = %s ORDER BY jobid""", (dbname,)).fetchall()
            out = [
                f"-- pg_cron jobs that run in database {dbname!r}, written by devdiag-backup at {stamp}.",
                f"-- Run in the database pg_cron lives in ({cron_db!r}); named jobs are updated in place,",
                "-- so running this twice changes nothing. Scheduling for another user needs a superuser.",
                "",
            ]
            saved = 0
            for name, schedule, command, database, username, active in jobs:
                if not name:
                    out.append(f"-- skipped an unnamed job ({schedule}): name it to have it backed up")
                    continue
                out.append("SELECT cron.schedule_in_database({});".format(", ".join(
                    sql.Literal(v).as_string(cc) for v in (name, schedule, command, database, username, active))))
                saved += 1
    except psycopg.Error as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        info["reason"] = f"cannot read cron.job in {cron_db}: {msg}"
        return None, info
    info.update(saved=True, jobs=saved)
    return "\n".join(out) + "\n", info


# --------------------------------------------------------------------------
# Dump, verify, manifest
# --------------------------------------------------------------------------

def list_archive(bindir: Path, archive: Path) -> list[str]:
    """pg_restore --list, or one clear line saying the archive is damaged."""
    res = run_tool(bindir / "pg_restore", ["--list", archive], check=False)
    if res.returncode != 0:
        raise DevdiagError(f"backup {archive} is damaged or not a pg_dump archive: {first_error(res.stderr)}")
    return [ln for ln in res.stdout.splitlines() if ln and not ln.startswith(";")]


def data_entries(toc: list[str]) -> set[str]:
    """schema.table of every TABLE DATA entry in a pg_restore --list."""
    found = set()
    for ln in toc:
        m = re.match(r"^\d+;\s+\d+\s+\d+\s+TABLE DATA\s+(\S+)\s+(\S+)\s", ln + " ")
        if m:
            found.add(f"{m.group(1)}.{m.group(2)}")
    return found


def file_entries(set_dir: Path) -> list[dict]:
    files = []
    for p in sorted(set_dir.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            files.append({"path": str(p.relative_to(set_dir)), "bytes": p.stat().st_size, "sha256": sha256_file(p)})
    return files


def set_checksum(files: list[dict]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f['path']}\0{f['sha256']}\0".encode())
    return h.hexdigest()


def archive_path(set_dir: Path, manifest: dict) -> Path:
    return set_dir / manifest["archive"]


def verify_set(set_dir: Path, bindir: Path | None = None) -> dict:
    """Check a backup set against its manifest: checksums, then pg_restore --list."""
    mpath = set_dir / "manifest.json"
    if not mpath.exists():
        raise DevdiagError(f"{set_dir}: no manifest.json (not a backup set, or an interrupted one)")
    try:
        manifest = json.loads(mpath.read_text())
    except ValueError as exc:
        raise DevdiagError(f"{mpath}: damaged manifest ({exc})") from None
    for f in manifest["files"]:
        p = set_dir / f["path"]
        if not p.exists():
            raise DevdiagError(f"backup {set_dir} is damaged: {f['path']} is missing")
        if p.stat().st_size != f["bytes"] or sha256_file(p) != f["sha256"]:
            raise DevdiagError(f"backup {set_dir} is damaged: {f['path']} does not match its SHA-256 in the manifest")
    if bindir is None:
        # The pg_restore that reads this archive: the pg_dump major that wrote it, or newer.
        bindir = bindir_for_server(int(manifest.get("pg_dump_major") or manifest["server_major"]))
    toc = list_archive(bindir, archive_path(set_dir, manifest))
    missing = sorted(set(manifest["tables"]) - data_entries(toc))
    if missing:
        raise DevdiagError(f"backup {set_dir} is incomplete: no data for {', '.join(missing)}")
    return manifest


def prune(backup_dir: Path, dbname: str, keep_days: int, keep: Path, now: datetime, quiet: bool) -> list[Path]:
    """Delete this database's sets older than keep_days; never the one just written."""
    cutoff = now - timedelta(days=keep_days)
    removed = []
    for p in sorted(backup_dir.iterdir()):
        m = SET_RE.match(p.name)
        if not m or m.group("db") != dbname or not p.is_dir() or p.resolve() == keep.resolve():
            continue
        stamp = datetime.strptime(m.group("stamp"), STAMP_FMT).replace(tzinfo=timezone.utc)
        complete = (p / "manifest.json").exists() and not m.group("partial")
        if stamp < cutoff or (not complete and stamp < now - timedelta(hours=1)):
            shutil.rmtree(p)
            removed.append(p)
            say(f"removed {p.name} ({'older than ' + str(keep_days) + ' days' if complete else 'interrupted'})",
                quiet)
    return removed


def private_files(fn):
    """Run fn under umask 077: a backup holds every tenant, so its files are 0600 and folders 0700.

    pg_dump inherits the umask, and the finished set is swept once more in case
    a file was created another way.
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        old = os.umask(0o077)
        try:
            set_dir = fn(*args, **kwargs)
        finally:
            os.umask(old)
        for p in [set_dir, *set_dir.rglob("*")]:
            os.chmod(p, 0o700 if p.is_dir() else 0o600)
        return set_dir
    return wrapper


@private_files
def backup(dsn: str, backup_dir: Path, fmt: str = "directory", jobs: int = 2, keep_days: int = 30,
           extra_schemas: list[str] | None = None, cron_dsn: str | None = None, quiet: bool = False,
           now: datetime | None = None) -> Path:
    """Write, verify and record one backup set; return its folder."""
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime(STAMP_FMT)
    with connect(dsn, autocommit=True) as conn:
        dbname = conn.info.dbname
        server_major = conn.info.server_version // 10000
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        schemas = warehouse_schemas(conn, extra_schemas or [])
        tables = tables_with_data(conn, schemas)
        through_rls, rls_tables, rls_hidden = rls_mode(conn, schemas)
        role = conn.execute("SELECT current_user").fetchone()[0]
        roles_text, roles = roles_sql(conn, schemas, dbname, now.isoformat())
        cron_text, cron_info = cron_sql(conn, dsn, dbname, now.isoformat(), cron_dsn)
        migrations = applied_migrations(conn)
        exts = extensions(conn)
    bindir = bindir_for_server(server_major)
    backup_dir.mkdir(parents=True, exist_ok=True)
    final = backup_dir / f"{dbname}-{stamp}"
    work = backup_dir / f"{dbname}-{stamp}.partial"
    if final.exists() or work.exists():
        raise DevdiagError(f"{final} already exists (two backups in the same second?)")
    work.mkdir()
    archive = "dump" if fmt == "directory" else "dump.pgdump"
    args = [f"--format={fmt[0]}", f"--file={work / archive}", "--lock-wait-timeout=120s", "--no-password"]
    if fmt == "directory" and jobs > 1:
        args.append(f"--jobs={jobs}")
    for s in schemas:
        # Quoted: an exact schema name, not a pattern.
        args.append('--schema="{}"'.format(s.replace('"', '""')))
    if through_rls:
        # pg_dump's row_security=off would refuse these tables; read them through the policies.
        args.append("--enable-row-security")
    if rls_hidden:
        warn(f"{role} reads {', '.join(rls_hidden)} through row-level security policies that may hide rows: "
             "the dump holds only the rows it can see; back up as a member of devdiag_owner or a BYPASSRLS role")
    say(f"dumping {dbname} ({', '.join(schemas)}) with {bindir / 'pg_dump'} "
        f"({fmt}{', ' + str(jobs) + ' jobs' if fmt == 'directory' and jobs > 1 else ''})", quiet)
    started = time.monotonic()
    try:
        run_tool(bindir / "pg_dump", args, dsn=dsn, what="pg_dump")
    except DevdiagError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    (work / "roles.sql").write_text(roles_text)
    if cron_text:
        (work / "cron.sql").write_text(cron_text)
    elif cron_info.get("present") and cron_info.get("reason"):
        warn(f"pg_cron jobs not saved: {cron_info['reason']}")
    toc = list_archive(bindir, work / archive)
    missing = sorted(set(tables) - data_entries(toc))
    if missing:
        shutil.rmtree(work, ignore_errors=True)
        raise DevdiagError(f"pg_dump wrote no data for {', '.join(missing)}")
    files = file_entries(work)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "database": dbname,
        "created_at": now.isoformat(),
        "server_version": server_version,
        "server_major": server_major,
        "pg_dump": str(bindir / "pg_dump"),
        "pg_dump_major": tool_major(bindir / "pg_dump"),
        "format": fmt,
        "jobs": jobs if fmt == "directory" else 1,
        "archive": archive,
        "schemas": schemas,
        "tables": tables,
        "rls_tables": rls_tables,
        "dumped_as": role,
        "through_row_security": through_rls,
        "rls_may_hide_rows": rls_hidden,
        "migrations": migrations,
        "extensions": exts,
        "roles": roles,
        "cron": cron_info,
        "toc_entries": len(toc),
        "files": files,
        "bytes": sum(f["bytes"] for f in files),
        "sha256": set_checksum(files),
        "seconds": round(time.monotonic() - started, 3),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    os.rename(work, final)
    say(f"backup {final}: {manifest['bytes']} bytes, {len(tables)} tables, {len(roles)} roles, "
        f"{cron_info.get('jobs', 0)} pg_cron jobs, sha256 {manifest['sha256'][:16]}…, verified with pg_restore --list",
        quiet)
    prune(backup_dir, dbname, keep_days, final, now, quiet)
    return final


def default_dir() -> Path:
    return Path(os.environ.get("DEVDIAG_BACKUP_DIR") or ROOT / "backups")


@main_guard
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dsn_option(ap)
    ap.add_argument("--dir", type=Path, default=None, help="backup folder (DEVDIAG_BACKUP_DIR, default backups/)")
    ap.add_argument("--format", choices=["directory", "custom"], default="directory")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="parallel pg_dump workers for the directory format")
    ap.add_argument("--keep-days", type=int, default=int(os.environ.get("DEVDIAG_BACKUP_KEEP_DAYS", "30")))
    ap.add_argument("--schema", action="append", default=[], help="also dump this schema (repeatable)")
    ap.add_argument("--cron-dsn", help="DSN of the database pg_cron lives in (default: same login, cron.database_name)")
    ap.add_argument("--verify", type=Path, metavar="SET", help="only verify an existing backup set")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.verify:
        manifest = verify_set(args.verify)
        say(f"{args.verify}: ok ({manifest['bytes']} bytes, {len(manifest['tables'])} tables)")
        return 0
    if args.keep_days < 1:
        raise DevdiagError("--keep-days must be at least 1")
    dsn = resolve_dsn(args.dsn)
    try:
        backup(dsn, args.dir or default_dir(), args.format, args.jobs, args.keep_days, args.schema,
               args.cron_dsn, args.quiet)
    except DevdiagError as exc:
        raise DevdiagError(f"{exc} [{redact(dsn)}]") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
