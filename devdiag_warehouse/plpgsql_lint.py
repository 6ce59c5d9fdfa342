"""make lint: plpgsql_check over every PL/pgSQL function of the warehouse's schemas.

Starts a throwaway PostgreSQL 15 (Debian's binaries, which
``postgresql-15-plpgsql-check`` extends), migrates it as the non-superuser
owner, creates the extension as the cluster's superuser and runs
``plpgsql_check_function_tb`` on each PL/pgSQL function of ``devdiag``,
``devdiag_ref`` and ``devdiag_rollup``: a
trigger function is checked against a table that fires it, with that
trigger's transition tables.  Every finding (error, warning or extra
warning; performance hints such as "could be STABLE" are left out) is printed with the function, the file of ``sql/`` or
``migrations/`` that defines it and the line in the function body; any
finding makes the exit status 1.  It never touches a configured warehouse.

    devdiag-plpgsql-lint                 # every function
    devdiag-plpgsql-lint --skip 'sql/functions/5*'   # leave out functions defined by matching files
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import sys
from pathlib import Path

import psycopg

from .config import ROOT, DevdiagError, main_guard
from .localdb import LocalCluster, find_bindir, free_port
from .migrate import Migrator

MAJOR = "15"
PACKAGE = f"postgresql-{MAJOR}-plpgsql-check"

# Each PL/pgSQL function with, for a trigger function, a table that fires it
# and the transition table names of its triggers (an INSERT trigger names only
# the new rows, a DELETE trigger only the old ones: the function's body reads
# both, so both names are passed).
FUNCTIONS_SQL = """
SELECT p.oid, p.oid::regprocedure::text AS signature, p.proname,
       p.prorettype = 'trigger'::regtype AS is_trigger,
       t.tgrelid, t.tgoldtable, t.tgnewtable
FROM pg_proc AS p
JOIN pg_language AS l ON l.oid = p.prolang AND l.lanname = 'plpgsql'
CROSS JOIN LATERAL (
    SELECT
        (array_agg(tg.tgrelid ORDER BY tg.tgrelid::regclass::text, tg.tgname))[1] AS tgrelid,
        max(tg.tgoldtable::text) AS tgoldtable,
        max(tg.tgnewtable::text) AS tgnewtable
    FROM pg_trigger AS tg
    WHERE tg.tgfoid = p.oid
) AS t
WHERE p.pronamespace IN ('devdiag'::regnamespace, 'devdiag_ref'::regnamespace, 'devdiag_rollup'::regnamespace)
ORDER BY p.proname, p.oid::regprocedure::text
"""

CHECK_SQL = """
SELECT c.lineno, c.level, c.sqlstate, c.message, c.detail, c.hint, c.query
FROM public.plpgsql_check_function_tb(
    %(oid)s::regprocedure, %(relid)s::regclass,
    fatal_errors => false, other_warnings => true, extra_warnings => true, performance_warnings => false,
    oldtable => %(oldtable)s::name, newtable => %(newtable)s::name) AS c
ORDER BY c.lineno NULLS FIRST, c.message
"""


def defining_files() -> dict[str, str]:
    """Function name -> the file of sql/ (else migrations/) that creates it."""
    found: dict[str, str] = {}
    pattern = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+devdiag\.(\w+)", re.IGNORECASE)
    for folder in ("sql", "migrations"):
        for path in sorted((ROOT / folder).rglob("*.sql")):
            if path.name.endswith(".rollback.sql"):
                continue
            for name in pattern.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def lint(dsn_owner: str, dsn_super: str, skip: list[str]) -> tuple[int, list[str]]:
    """Check every function; return (functions checked, one line per finding)."""
    files = defining_files()
    with psycopg.connect(dsn_super, autocommit=True) as su:
        su.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check SCHEMA public")
    findings: list[str] = []
    checked = 0
    with psycopg.connect(dsn_owner, autocommit=True) as conn:
        for oid, signature, name, is_trigger, relid, oldtable, newtable in conn.execute(FUNCTIONS_SQL).fetchall():
            where = files.get(name, "(not defined in sql/ or migrations/)")
            if any(fnmatch.fnmatch(where, pattern) for pattern in skip):
                continue
            checked += 1
            if is_trigger and relid is None:
                findings.append(f"{where}: {signature}: trigger function that no trigger uses: cannot be checked")
                continue
            params = {"oid": oid, "relid": relid or 0, "oldtable": oldtable, "newtable": newtable}
            for lineno, level, sqlstate, message, detail, hint, query in conn.execute(CHECK_SQL, params):
                where_line = f"{where}: {signature}" + (f", line {lineno} of the body" if lineno else "")
                extra = "".join(f"\n    {label}: {text}" for label, text in
                                (("detail", detail), ("hint", hint), ("query", query)) if text)
                findings.append(f"{where_line}: {level} [{sqlstate}] {message}{extra}")
    return checked, findings


@main_guard
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip", action="append", default=[], metavar="GLOB",
                    help="leave out functions defined by files matching GLOB (relative to the project)")
    args = ap.parse_args(argv)
    bindir = find_bindir(MAJOR)
    if f"/postgresql/{MAJOR}/" not in str(bindir):
        raise DevdiagError(f"PostgreSQL {MAJOR} server binaries not found: install postgresql-{MAJOR} and {PACKAGE}")
    share = Path("/usr/share/postgresql") / MAJOR / "extension" / "plpgsql_check.control"
    if not share.exists():
        raise DevdiagError(f"plpgsql_check is not installed for PostgreSQL {MAJOR}: apt-get install {PACKAGE}")
    base = LocalCluster.base_dir(f"plpgsql-lint-{os.getpid()}")
    local = LocalCluster(base / "data", bindir, free_port(), base)
    try:
        dsn = local.ensure_running()
        with open(os.devnull, "w") as quiet, Migrator(dsn, out=quiet) as m:
            m.apply()
        checked, findings = lint(dsn, local.superuser_dsn("devdiag"), args.skip)
    finally:
        local.destroy()
    for line in findings:
        print(line)
    print(f"plpgsql_check: {checked} PL/pgSQL functions checked, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
