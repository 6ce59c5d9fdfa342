"""make dbt: `dbt build` of devdiag_dbt/ against the warehouse.

The DSN comes from ``--dsn``, else the usual places (DEVDIAG_DSN,
devdiag.yaml, or the project-local PostgreSQL); it is handed to dbt as the
DEVDIAG_DBT_* environment variables that devdiag_dbt/profiles.yml reads, so no
password is ever written to a file.  dbt runs from its own venv (``make
dbt-venv``: .venv-dbt), or the executable named by DEVDIAG_DBT, or a ``dbt`` on
PATH.  Anything after ``--`` goes to dbt as it is:

    devdiag-dbt                           # dbt build (models, schema tests, mart = view tests)
    devdiag-dbt --command test -- --select fct_ttr
    devdiag-dbt --command freshness       # dbt source freshness: are runs still arriving?
    devdiag-dbt --dsn postgresql://... -- --target-path /tmp/t --log-path /tmp/l
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from .config import (
    ROOT,
    DevdiagError,
    add_dsn_option,
    libpq_dsn,
    main_guard,
    redact,
    resolve_dsn,
)

PROJECT = ROOT / "devdiag_dbt"
DBT_VENV = ROOT / ".venv-dbt"
DEFAULT_SCHEMA = "devdiag_dbt"


def find_dbt() -> str | None:
    """The dbt executable: DEVDIAG_DBT, the project's .venv-dbt, or one on PATH."""
    for candidate in (os.environ.get("DEVDIAG_DBT"), str(DBT_VENV / "bin" / "dbt")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("dbt")


def dbt_env(dsn: str, schema: str) -> dict[str, str]:
    """Environment for profiles.yml from a DSN (URL or key=value form, unix sockets included)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(libpq_dsn(dsn))
    except Exception as exc:  # psycopg.ProgrammingError on a malformed DSN
        raise DevdiagError(f"cannot parse the DSN {redact(dsn)}: {exc}") from None
    env = dict(os.environ)
    env.update({
        "DEVDIAG_DBT_HOST": str(parts.get("host") or os.environ.get("PGHOST") or "localhost"),
        "DEVDIAG_DBT_PORT": str(parts.get("port") or os.environ.get("PGPORT") or "5432"),
        "DEVDIAG_DBT_USER": str(parts.get("user") or os.environ.get("PGUSER") or os.environ.get("USER", "")),
        "DEVDIAG_DBT_PASSWORD": str(parts.get("password") or os.environ.get("PGPASSWORD") or ""),
        "DEVDIAG_DBT_DBNAME": str(parts.get("dbname") or os.environ.get("PGDATABASE") or "devdiag"),
        "DEVDIAG_DBT_SSLMODE": str(parts.get("sslmode") or os.environ.get("PGSSLMODE") or "prefer"),
        "DEVDIAG_DBT_SCHEMA": schema,
        # No telemetry and no version check: nothing leaves the machine but the DSN's connection.
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "DBT_VERSION_CHECK": "false",
    })
    return env


@main_guard
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dsn_option(ap)
    ap.add_argument("--schema", default=os.environ.get("DEVDIAG_DBT_SCHEMA", DEFAULT_SCHEMA),
                    help=f"schema dbt builds into (default {DEFAULT_SCHEMA}; never devdiag, which migrate owns)")
    ap.add_argument("--command", default="build", choices=["build", "run", "test", "compile", "debug", "freshness"],
                    help="dbt command (default build; freshness: dbt source freshness)")
    args = ap.parse_args(argv)
    if args.schema == "devdiag":
        raise DevdiagError("refusing to build dbt models into the schema devdiag: make migrate owns it")
    dbt = find_dbt()
    if not dbt:
        raise DevdiagError("dbt is not installed: run `make dbt-venv` (dbt-core<1.12 and dbt-postgres in .venv-dbt)")
    dsn = resolve_dsn(args.dsn)
    command = ["source", "freshness"] if args.command == "freshness" else [args.command]
    cmd = [dbt, "--no-use-colors", *command, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
           *passthrough]
    print(f"dbt {args.command} into schema {args.schema} of {redact(dsn)}", flush=True)
    return subprocess.run(cmd, env=dbt_env(dsn, args.schema), cwd=PROJECT).returncode


if __name__ == "__main__":
    sys.exit(main())
