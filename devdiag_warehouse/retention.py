"""make retention: run the retention job once, from system cron where pg_cron is not available.

Calls ``devdiag.run_retention()`` (partition the days ahead, archive whole
UTC days past ``retention_days``, then purge archived days past
``archive_purge_days`` when set), which commits after every batch of days, so
it runs on an autocommit connection.  System cron line:

    17 3 * * *  cd /opt/devdiag-warehouse && DEVDIAG_DSN=... make -s retention >> /var/log/devdiag-retention.log 2>&1
"""

from __future__ import annotations

import argparse
import sys

from .config import DevdiagError, add_dsn_option, connect, main_guard, resolve_dsn


@main_guard
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dsn_option(ap)
    ap.add_argument("--batch", type=int, help="UTC days moved or purged per transaction (default 1)")
    ap.add_argument("--max-batches", type=int, help="stop after this many batches per phase")
    args = ap.parse_args(argv)
    import psycopg

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


if __name__ == "__main__":
    sys.exit(main())
