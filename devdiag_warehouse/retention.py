"""make retention / make refresh: the maintenance jobs, from system cron where pg_cron is not available.

``make refresh`` (``--refresh``) folds the runs written since the last refresh
into the rollups (``CALL devdiag.refresh_rollups()``); the views are exact as
of the last refresh, so it runs every minute; with ``--workers N`` (after a
backfill) it counts the runs to fold per tenant and folds them on N
connections at once, one set of tenants each, then refreshes every tenant.
``make retention`` calls ``devdiag.run_retention()`` (partition the days ahead, archive whole
UTC days past ``retention_days``, then purge archived days past
``archive_purge_days`` when set), which commits after every batch of days, so
it runs on an autocommit connection.  System cron line:

    * * * * *   cd /opt/devdiag-warehouse && DEVDIAG_DSN=... make -s refresh >> /var/log/devdiag-refresh.log 2>&1
    17 3 * * *  cd /opt/devdiag-warehouse && DEVDIAG_DSN=... make -s retention >> /var/log/devdiag-retention.log 2>&1
"""

from __future__ import annotations

import argparse
import sys

from .config import DevdiagError, add_dsn_option, connect, main_guard, resolve_dsn
from .refresh import refresh_side_by_side

#: how long a refresh waits for writers still in flight (the procedure's default)
LOCK_WAIT_S = 5.0


@main_guard
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dsn_option(ap)
    ap.add_argument("--batch", type=int, help="UTC days moved or purged per transaction (default 1)")
    ap.add_argument("--max-batches", type=int, help="stop after this many batches per phase")
    ap.add_argument("--refresh", action="store_true",
                    help="only fold new runs into the rollups (CALL devdiag.refresh_rollups()), every minute")
    ap.add_argument("--workers", type=int, default=1,
                    help="with --refresh: connections folding at once, one set of tenants each (default 1)")
    args = ap.parse_args(argv)
    if args.workers < 1:
        raise DevdiagError("--workers must be at least 1")
    import psycopg

    if args.refresh:
        return refresh(resolve_dsn(args.dsn), args.workers)
    with connect(resolve_dsn(args.dsn), autocommit=True) as conn:
        notices: list[str] = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        try:
            conn.execute("CALL devdiag.run_retention(%s, %s)", (args.batch, args.max_batches))
        except (psycopg.errors.UndefinedFunction, psycopg.errors.InvalidSchemaName):
            raise DevdiagError("devdiag.run_retention() is missing: run make migrate first") from None
        except psycopg.Error as exc:
            raise DevdiagError(f"retention failed: {str(exc).strip().splitlines()[0]}") from None
    print(notices[-1] if notices else "retention: done")
    return 0


def refresh(dsn: str, workers: int = 1) -> int:
    """Fold the runs written since the last refresh; exit 1 when writers held the run tables too long."""
    import psycopg

    errors: list[BaseException] = []
    with connect(dsn, autocommit=True) as conn:
        notices: list[str] = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        try:
            if workers > 1:
                folded, errors = refresh_side_by_side(conn, dsn, workers, LOCK_WAIT_S)
            else:
                folded = conn.execute("CALL devdiag.refresh_rollups()").fetchone()[0]
        except (psycopg.errors.UndefinedFunction, psycopg.errors.InvalidSchemaName):
            raise DevdiagError("devdiag.refresh_rollups() is missing: run make migrate first") from None
        except psycopg.Error as exc:
            raise DevdiagError(f"refresh failed: {str(exc).strip().splitlines()[0]}") from None
    for exc in errors[:1]:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"refresh: a fold of a set of tenants failed ({why}); the refresh of every tenant folded its runs",
              file=sys.stderr)
    if folded is None:
        print(notices[-1] if notices else "refresh: writers held the run tables; nothing folded", file=sys.stderr)
        return 1
    print(f"refresh: folded {folded} run(s) into the rollups")
    return 0


if __name__ == "__main__":
    sys.exit(main())
