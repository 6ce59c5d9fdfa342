"""Reading a DevDiag SQLite learning store: one read-only snapshot, in id order."""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from datetime import datetime, timezone
from urllib.parse import quote

from ..config import (
    DevdiagError,
)
from .base import FIX_COLUMNS, RUN_COLUMNS, BusyError

# --------------------------------------------------------------------------
# The SQLite side: one read-only snapshot
# --------------------------------------------------------------------------

class Store:
    """A DevDiag SQLite learning store opened read-only inside one read transaction.

    In WAL mode the snapshot is fixed by the first read after BEGIN and readers
    never block DevDiag's writer; in rollback-journal mode a writer that is
    committing makes readers wait up to ``busy_timeout`` seconds.
    """

    def __init__(self, path: str, busy_timeout: float = 30.0):
        self.path = path
        if not os.path.exists(path):
            raise DevdiagError(f"SQLite store not found: {path}")
        if not os.path.isfile(path):
            raise DevdiagError(f"SQLite store is not a file: {path}")
        uri = "file:" + quote(os.path.abspath(path)) + "?mode=ro"
        try:
            self.conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None,
                                        check_same_thread=False)
            self.conn.execute("BEGIN")
            tables = {r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('diag_run', 'fix_outcome')")}
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        missing = {"diag_run", "fix_outcome"} - tables
        if missing:
            raise DevdiagError(f"{path} is not a DevDiag learning store (no table {', '.join(sorted(missing))})")
        for table, cols in (("diag_run", RUN_COLUMNS), ("fix_outcome", FIX_COLUMNS)):
            have = {r[1] for r in self.fetch(f"PRAGMA table_info({table})")}
            lacking = [c for c in cols if c not in have]
            if lacking:
                raise DevdiagError(f"{path}: table {table} lacks column(s) {', '.join(lacking)}")
        self.snapshot_at = datetime.now(timezone.utc)

    def error(self, exc: sqlite3.Error) -> DevdiagError:
        msg = str(exc)
        # sqlite3.DatabaseError proper (not an OperationalError): the file itself is bad.
        if type(exc) is sqlite3.DatabaseError or "malformed" in msg:
            return DevdiagError(f"SQLite store {self.path} is damaged or not a SQLite database ({msg}); "
                                "what was committed before stays: repair the file (sqlite3 .recover) and sync again")
        if "locked" in msg or "busy" in msg:
            return BusyError(f"SQLite store {self.path} is locked ({msg}); try again later")
        if "readonly" in msg:
            # A WAL-mode store whose -shm file does not exist (DevDiag is not
            # running) cannot be read without creating it.
            return DevdiagError(
                f"cannot read SQLite store {self.path}: {msg}; a WAL-mode store needs its directory writable "
                "by the sync's user while DevDiag is not running (the sync itself never writes the store)")
        return DevdiagError(f"cannot read SQLite store {self.path}: {msg}")

    def fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self.error(exc) from None

    def one(self, sql: str, params: tuple = ()):
        rows = self.fetch(sql, params)
        return rows[0] if rows else None

    def runs_after(self, after: int, limit: int) -> list[tuple]:
        """The next ``limit`` runs above ``after`` in id order (keyset paging, same snapshot)."""
        return self._page("SELECT id, ts, tenant, target_hash, env_fp, problems, evidence, preset FROM diag_run "
                          "WHERE id > ? ORDER BY id LIMIT ?", after, limit)

    def run_days_after(self, after: int, ts_min: float, ts_max: float) -> set:
        """The UTC days (days since 1970-01-01) of the runs after an id whose ts is a number in range.

        A day whose runs are all rejected later is among them: it gets an empty partition.
        """
        days = {d for (d,) in self.fetch(
            "SELECT DISTINCT CAST(ts / 86400 AS INTEGER) FROM diag_run "
            "WHERE id > ? AND typeof(ts) IN ('integer', 'real') AND ts >= 0 AND ts <= ?", (after, ts_max))}
        days.update(int(ts // 86400) for (ts,) in self.fetch(
            "SELECT ts FROM diag_run WHERE id > ? AND typeof(ts) IN ('integer', 'real') AND ts < 0 AND ts >= ?",
            (after, ts_min)))
        return days

    def fix_outcomes(self, after: int, limit: int) -> list[tuple]:
        return self._page("SELECT id, ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes "
                          "FROM fix_outcome WHERE id > ? ORDER BY id LIMIT ?", after, limit)

    def _page(self, sql: str, after: int, limit: int) -> list[tuple]:
        try:
            return self.conn.execute(sql, (after, limit)).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc).lower():
                raise self.error(exc) from None
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        # Some text is not UTF-8: read this page as bytes and decode per value.
        self.conn.text_factory = bytes
        try:
            rows = self.conn.execute(sql, (after, limit)).fetchall()
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        finally:
            self.conn.text_factory = str
        return [tuple(decode_or_keep(v) for v in r) for r in rows]

    def fingerprint(self) -> tuple[int, str] | None:
        """(id, digest) of the store's lowest run, or None when it has no run yet."""
        row = self.one("SELECT id, ts, tenant, target_hash FROM diag_run ORDER BY id LIMIT 1")
        return None if row is None else (row[0], run_digest(row))

    def run_digest_of(self, run_id: int) -> str | None:
        row = self.one("SELECT id, ts, tenant, target_hash FROM diag_run WHERE id = ?", (run_id,))
        return None if row is None else run_digest(row)

    def close(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error:
            pass
        self.conn.close()


def decode_or_keep(value):
    """Bytes that are UTF-8 become str; other bytes stay bytes (and are rejected as not text)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def run_digest(row: tuple) -> str:
    return hashlib.sha256(json.dumps(["diag_run", *[describe(v) for v in row]]).encode()).hexdigest()


def describe(value):
    """A JSON-safe rendering of a SQLite value (bytes as an x'..' literal)."""
    if isinstance(value, bytes):
        return "x'" + value.hex() + "'"
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value
