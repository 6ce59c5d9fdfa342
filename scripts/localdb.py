#!/usr/bin/env python3
"""Manage the project-local PostgreSQL used when no DSN is configured.

    localdb.py up        initialise (first time) and start it; print the DSN
    localdb.py down      stop it
    localdb.py destroy   stop it and delete its data
    localdb.py dsn       print the warehouse DSN (configured or local)
    localdb.py psql      open psql on the warehouse
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devdiag_env import (  # noqa: E402
    STATE_DIR, DevdiagError, LocalCluster, configured_dsn, libpq_dsn, main_guard, redact, resolve_dsn,
)


def psql_binary() -> str:
    state = STATE_DIR / "local.json"
    if state.exists():
        cand = Path(LocalCluster.default().bindir) / "psql"
        if cand.exists():
            return str(cand)
    found = shutil.which("psql")
    if not found:
        raise DevdiagError("psql not found (install postgresql-client)")
    return found


@main_guard
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["up", "down", "destroy", "dsn", "psql"])
    args = ap.parse_args(argv)
    if args.command == "dsn":
        print(resolve_dsn())
        return 0
    if args.command == "psql":
        dsn = resolve_dsn()
        os.execv(psql_binary(), ["psql", dsn])
    if configured_dsn() and args.command == "up":
        print(f"a DSN is configured ({redact(libpq_dsn(configured_dsn()))}); no local PostgreSQL needed")
        return 0
    cluster = LocalCluster.default()
    if args.command == "up":
        dsn = cluster.ensure_running()
        print(f"local PostgreSQL running: {dsn}")
    elif args.command == "down":
        cluster.stop()
        print("local PostgreSQL stopped")
    else:
        cluster.destroy()
        (STATE_DIR / "local.json").unlink(missing_ok=True)
        print("local PostgreSQL destroyed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
