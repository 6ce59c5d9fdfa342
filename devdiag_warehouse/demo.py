"""make demo: a working warehouse on this machine in one command.

Starts (or reuses) the project-local PostgreSQL -- never a configured
warehouse, so a demo cannot pollute production, and it says so when one is
configured -- migrates it, loads a deterministic sample history when the
warehouse is empty, schedules the maintenance jobs where the server has
pg_cron, creates a read-only analyst login for TCP clients such as Tableau,
then runs every file in sql/queries/ with psql and prints the results.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from . import jobs, sample_data
from .config import (
    ROOT,
    DevdiagError,
    configured_warehouse,
    connect,
    main_guard,
    psql_uri,
)
from .localdb import LocalCluster, psql_binary
from .migrate import Migrator

#: the demo's all-tenant, read-only login for TCP clients (localhost only)
DEMO_LOGIN, DEMO_PASSWORD = "devdiag_demo", "devdiag-demo"

QUERIES = ROOT / "sql" / "queries"


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


def prepare_cluster(cluster: LocalCluster) -> bool:
    """The analyst login for TCP clients, and pg_cron with the jobs where the server preloads it.

    Returns whether the jobs are scheduled (a backup then saves them).
    """
    import psycopg

    with psycopg.connect(cluster.superuser_dsn("devdiag"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DEMO_LOGIN,)).fetchone():
            conn.execute(f"CREATE ROLE {DEMO_LOGIN} LOGIN IN ROLE devdiag_analyst")
        conn.execute(f"ALTER ROLE {DEMO_LOGIN} PASSWORD '{DEMO_PASSWORD}'")
        preloaded = "pg_cron" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        if not preloaded:
            return False
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        # The owner sees (and backs up) the jobs that run as it, as on a managed service.
        conn.execute("GRANT USAGE ON SCHEMA cron TO devdiag")
    jobs.main.__wrapped__(["--cron-dsn", cluster.superuser_dsn("devdiag"), "--database", "devdiag",
                           "--run-as", "devdiag"])
    return True


def run_queries(psql: str, dsn: str, tenant: str) -> int:
    print(f"\nqueries run as: psql -X -q -v ON_ERROR_STOP=1 -v tenant={tenant} -v days=30 -f <file>"
          f"\n(every file narrows to -v tenant, here the tenant with the most runs; leave it out to see every "
          f"tenant the login may read)")
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
    configured = configured_warehouse()
    if configured:
        print(f"note: {configured.origin} names a warehouse; the demo never touches it and uses the "
              "local PostgreSQL in .devdiag/ instead (make psql opens the configured one)")
    cluster = LocalCluster.default()
    dsn = cluster.ensure_running()
    print(f"local PostgreSQL: {psql_uri(dsn)}")
    try:
        with Migrator(dsn) as m:
            m.apply()
    except DevdiagError as exc:
        # The demo's cluster is the project's own scratch warehouse: say how to start afresh.
        raise DevdiagError(f"{exc}\n(the local PostgreSQL in .devdiag/ holds an older warehouse: make db-destroy "
                           "deletes it, then make demo builds a new one)") from None
    tenant = load_sample(dsn, args.runs, args.tenants, args.days, args.seed)
    scheduled = prepare_cluster(cluster)
    failures = run_queries(psql_binary(cluster), dsn, tenant)
    open_cmd = f'psql "{psql_uri(dsn)}"' if configured else "make psql"
    print(f"\nwarehouse ready: {psql_uri(dsn)}\n  open it: {open_cmd}; stop it: make db-down"
          f"\n  TCP clients (Tableau, DBeaver): host 127.0.0.1, port {cluster.port}, database devdiag, "
          f"user {DEMO_LOGIN}, password {DEMO_PASSWORD} (reads every tenant, writes nothing)"
          f"\n  maintenance jobs: {'scheduled with pg_cron' if scheduled else 'pg_cron not available; run make retention'}")
    if failures:
        raise DevdiagError(f"{failures} query file(s) failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
