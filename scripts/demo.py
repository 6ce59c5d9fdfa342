#!/usr/bin/env python3
"""make demo: a working warehouse on this machine in one command.

Starts (or reuses) the project-local PostgreSQL -- never a configured
warehouse, so a demo cannot pollute production -- migrates it, loads a
deterministic sample history when the warehouse is empty, then runs every
file in sql/queries/ with psql and prints the results.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devdiag_env import ROOT, DevdiagError, LocalCluster, connect, main_guard  # noqa: E402
from migrate import Migrator  # noqa: E402
import sample_data  # noqa: E402

QUERIES = ROOT / "sql" / "queries"


def psql_path(cluster: LocalCluster) -> str:
    own = cluster.bindir / "psql"
    if own.exists():
        return str(own)
    found = shutil.which("psql")
    if not found:
        raise DevdiagError("psql not found (install postgresql-client)")
    return found


def load_sample(dsn: str, runs: int, tenants: int, days: int, seed: int) -> str:
    """Load the sample if the warehouse holds no run yet; return the biggest tenant."""
    with connect(dsn) as conn:
        have = conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0]
        if have:
            print(f"warehouse already holds {have} runs; not loading the sample again")
        else:
            gen = sample_data.Generated()
            n = sample_data.copy_to_pg(conn, sample_data.generate(runs, tenants, days, seed, out=gen), gen)
            conn.commit()
            print(f"loaded {n} runs and {len(gen.fixes)} fix outcomes for {tenants} tenants over {days} days")
        row = conn.execute(
            "SELECT tenant FROM devdiag.diag_run GROUP BY tenant ORDER BY count(*) DESC, tenant LIMIT 1"
        ).fetchone()
    return row[0] if row else "acme"


def run_queries(psql: str, dsn: str, tenant: str) -> int:
    failures = 0
    for path in sorted(QUERIES.glob("*.sql")):
        header = [ln[3:].strip() for ln in path.read_text().splitlines()[:2] if ln.startswith("--")]
        print(f"\n=== {path.relative_to(ROOT)}: {header[0] if header else ''}")
        sys.stdout.flush()
        res = subprocess.run(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"tenant={tenant}",
             "-v", "days=30", "-P", "pager=off", "-d", dsn, "-f", str(path)],
            capture_output=True, text=True,
        )
        print(res.stdout.rstrip() or "(no rows)")
        if res.returncode != 0:
            failures += 1
            print(f"FAILED: {res.stderr.strip()}")
    return failures


@main_guard
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--tenants", type=int, default=6)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    cluster = LocalCluster.default()
    dsn = cluster.ensure_running()
    print(f"local PostgreSQL: {dsn}")
    with Migrator(dsn) as m:
        m.apply()
    tenant = load_sample(dsn, args.runs, args.tenants, args.days, args.seed)
    failures = run_queries(psql_path(cluster), dsn, tenant)
    print(f"\nwarehouse ready: {dsn}\n(make psql opens it; make db-down stops it)")
    if failures:
        raise DevdiagError(f"{failures} query file(s) failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
