"""make jobs: schedule the warehouse's maintenance jobs with pg_cron.

This is the one step that needs a privileged connection: the database where
pg_cron is installed (``cron.database_name``; ``postgres`` on RDS, Cloud SQL
and Azure) as a role allowed to schedule there (superuser, rds_superuser,
cloudsqlsuperuser, azure_pg_admin, or one granted EXECUTE on
``cron.schedule_in_database``).  Give it as ``DEVDIAG_CRON_DSN`` or
``--cron-dsn``.  Jobs are named, so running this again updates them.

    DEVDIAG_CRON_DSN=postgresql://admin@host/postgres make jobs
    devdiag-jobs --print       # the SQL, to run by hand
    devdiag-jobs --unschedule  # remove them

Without pg_cron, schedule ``make retention`` from system cron instead
(see docs/RETENTION.md).
"""

from __future__ import annotations

import argparse
import os
import sys

from .config import DevdiagError, connect, main_guard, parse_dsn, resolve_dsn

# name, schedule, command, where ("warehouse" or "cron")
JOBS = [
    # The views are exact as of the last refresh: fold new runs every minute.
    ("devdiag-refresh", "* * * * *", "CALL devdiag.refresh_rollups()", "warehouse"),
    ("devdiag-retention", "17 3 * * *", "CALL devdiag.run_retention()", "warehouse"),
    # VACUUM cannot run in a transaction block: it is a job of its own.
    ("devdiag-vacuum", "47 3 * * *", "VACUUM (ANALYZE)", "warehouse"),
    ("devdiag-cron-cleanup", "7 4 * * *",
     "DELETE FROM cron.job_run_details WHERE end_time < now() - interval '14 days'", "cron"),
]

NO_PG_CRON = (
    "pg_cron is not installed in the database of {dsn}: enable it (shared_preload_libraries = 'pg_cron', "
    "CREATE EXTENSION pg_cron in cron.database_name) or schedule `make refresh` and `make retention` from system cron "
    "(docs/RETENTION.md)"
)


def dbname_of(dsn: str) -> str:
    params = parse_dsn(dsn)
    return params.get("dbname") or params.get("user") or "postgres"


def plan(warehouse_db: str, cron_db: str) -> list[tuple[str, str, str, str]]:
    return [(name, sched, cmd, warehouse_db if where == "warehouse" else cron_db)
            for name, sched, cmd, where in JOBS]


@main_guard
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cron-dsn", default=os.environ.get("DEVDIAG_CRON_DSN"),
                    help="privileged DSN of the database where pg_cron lives")
    ap.add_argument("--database", help="the warehouse database (default: from DEVDIAG_DSN / devdiag.yaml)")
    ap.add_argument("--run-as", help="role the jobs run as (default: the role of --cron-dsn)")
    ap.add_argument("--print", action="store_true", help="print the SQL instead of running it")
    ap.add_argument("--unschedule", action="store_true", help="remove the jobs")
    args = ap.parse_args(argv)
    import psycopg
    from psycopg import sql

    warehouse_db = args.database or dbname_of(resolve_dsn())
    if args.print:
        for name, sched, cmd, db in plan(warehouse_db, "postgres"):
            stmt = (sql.SQL("SELECT cron.unschedule({});").format(sql.Literal(name)) if args.unschedule else
                    sql.SQL("SELECT cron.schedule_in_database({}, {}, {}, {});").format(
                        *(sql.Literal(v) for v in (name, sched, cmd, db))))
            print(stmt.as_string(None))
        return 0
    if not args.cron_dsn:
        raise DevdiagError("make jobs needs the privileged connection to the pg_cron database: "
                           "set DEVDIAG_CRON_DSN (e.g. postgresql://admin@host/postgres)")
    with connect(args.cron_dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone():
            raise DevdiagError(NO_PG_CRON.format(dsn=dbname_of(args.cron_dsn)))
        cron_db = conn.execute("SELECT current_database()").fetchone()[0]
        run_as = args.run_as or conn.execute("SELECT current_user").fetchone()[0]
        existing = dict(conn.execute("SELECT jobname, jobid FROM cron.job WHERE jobname LIKE 'devdiag-%%'").fetchall())
        for name, sched, cmd, db in plan(warehouse_db, cron_db):
            try:
                if args.unschedule:
                    if name in existing:
                        # By id: unscheduling by name only finds the caller's own jobs.
                        conn.execute("SELECT cron.unschedule(%s::bigint)", (existing[name],))
                        print(f"unscheduled {name}")
                    continue
                conn.execute("SELECT cron.schedule_in_database(%s, %s, %s, %s, %s, true)",
                             (name, sched, cmd, db, run_as))
            except psycopg.errors.InsufficientPrivilege as exc:
                raise DevdiagError(
                    f"not allowed to schedule {name} in database {db} as {run_as}: "
                    f"{str(exc).strip().splitlines()[0]} (make jobs needs the privileged connection)") from None
            print(f"scheduled {name:22} {sched:12} in {db} as {run_as}: {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
