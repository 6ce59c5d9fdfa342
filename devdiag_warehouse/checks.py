"""Run the warehouse's health checks or alert queries and report them.

    devdiag-checks health    every file in sql/health/: status rows (ok | warn | fail)
    devdiag-checks alerts    every file in sql/alerts/: a file returning rows is firing

Each file runs in its own read-only transaction with a statement timeout, so
one slow or broken check never hides the others; a file that errors is
reported in one line and counts as a failure.

Exit status: health 0 all ok, 1 some warn, 2 some fail or error;
alerts 0 none firing, 1 some firing, 2 some query failed.  Cron, a
Kubernetes probe or CI can act on it directly; ``--quiet`` prints only what
is not ok.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import ROOT, add_dsn_option, connect, main_guard, resolve_dsn

KINDS = {"health": ROOT / "sql" / "health", "alerts": ROOT / "sql" / "alerts"}


def files(kind: str) -> list[Path]:
    return sorted(KINDS[kind].glob("*.sql"))


def header(path: Path) -> str:
    """The first header line, without its comment marker (what fires it / what it checks)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("--"):
            return line.lstrip("- ").strip()
    return ""


def run_file(conn, path: Path, timeout_ms: int) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of one query file, read-only."""
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(timeout_ms),))
        cur = conn.execute(path.read_text(encoding="utf-8"))
        cols = [d.name for d in cur.description or []]
        return cols, cur.fetchall()


def fmt(value) -> str:
    return "" if value is None else str(value)


def run(kind: str, dsn: str, quiet: bool = False, timeout_ms: int = 60_000, out=sys.stdout) -> int:
    import psycopg

    worst = 0
    with connect(dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for path in files(kind):
            rel = path.relative_to(ROOT)
            try:
                cols, rows = run_file(conn, path, timeout_ms)
            except psycopg.Error as exc:
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                print(f"ERROR   {rel}: {msg}", file=out)
                worst = 2
                continue
            if kind == "alerts":
                if rows:
                    worst = max(worst, 1)
                    print(f"FIRING  {path.stem}: {len(rows)} row(s) ({header(path)})", file=out)
                    print("        " + " | ".join(cols), file=out)
                    for r in rows:
                        print("        " + " | ".join(fmt(v) for v in r), file=out)
                elif not quiet:
                    print(f"ok      {path.stem}", file=out)
                continue
            idx = {c: i for i, c in enumerate(cols)}
            for r in rows:
                status = r[idx["status"]]
                worst = max(worst, {"ok": 0, "warn": 1}.get(status, 2))
                if quiet and status == "ok":
                    continue
                print(f"{status:7} {r[idx['check_name']]:14} {r[idx['subject']]:48} {r[idx['detail']]}", file=out)
    return worst


@main_guard
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=sorted(KINDS))
    add_dsn_option(ap)
    ap.add_argument("--quiet", action="store_true", help="print only what is not ok")
    ap.add_argument("--timeout-ms", type=int, default=60_000, help="statement timeout per file")
    args = ap.parse_args(argv)
    return run(args.kind, resolve_dsn(args.dsn), args.quiet, args.timeout_ms)


if __name__ == "__main__":
    sys.exit(main())
