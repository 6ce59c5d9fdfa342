"""Sync a DevDiag SQLite learning store into the warehouse.

    SQLITE_PATH=devdiag.db DEVDIAG_DSN=postgresql://... devdiag-sync [--quiet] [--dry-run]

Incremental: each source (one SQLite store) has a watermark in
``devdiag.sync_source``: the highest SQLite ``diag_run.id`` already processed.
Runs above it are read from one consistent snapshot of the store (a read
transaction on a read-only connection, so DevDiag keeps writing meanwhile),
checked and privacy-filtered in Python, COPYed into a temporary staging table
in batches of ``--batch-rows`` and moved into ``devdiag.diag_run`` by one
set-based INSERT per batch.  Each batch commits together with the watermark
that covers it, so a sync killed at any point resumes where the last commit
left off; the unique constraint on (source_id, source_run_id, tenant) makes a
run sent twice land once anyway.  Fix outcomes are compared with what the
source reported last time (``devdiag.fix_outcome_source``): only the growth
of the running support total is added to ``devdiag.fix_outcome``, in one
transaction.  Rows that cannot land go to ``devdiag.sync_reject`` with the
reason; the rest lands.

Configuration (first match wins):
  SQLite store   --sqlite, SQLITE_PATH, devdiag.yaml learn.store (sqlite:///path)
  warehouse      --dsn, DEVDIAG_DSN, PG_DSN (the sync's alias), devdiag.yaml
                 warehouse.dsn, else the project-local PostgreSQL if one exists
  source name    --source, SYNC_SOURCE, devdiag.yaml learn.sync.source, else
                 derived from the store's first run ("sqlite-<16 hex>")
  privacy        devdiag.yaml learn.privacy.hash_targets (default true) and
                 learn.privacy.keep_evidence_keys (default: the warehouse's
                 settings.keep_evidence_keys)
  config file    --config, DEVDIAG_CONFIG, ./devdiag.yaml of the project

Exit status:
  0  synced; no row was rejected
  1  synced; rows were rejected (listed in devdiag.sync_reject)
  2  nothing synced: configuration or connection problem (missing SQLite file,
     wrong DSN, unmigrated warehouse, store replaced under the same name, ...)
  3  nothing synced: busy (another sync of the same source is running, or the
     SQLite file or a warehouse table stayed locked); try again later
  70 internal error (a bug: the traceback is printed)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import queue
import re
import socket
import sqlite3
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

from .config import (
    DevdiagError,
    add_dsn_option,
    libpq_dsn,
    load_config,
    mask_secrets,
    redact,
    warehouse,
)

EXIT_OK, EXIT_REJECTED, EXIT_CONFIG, EXIT_BUSY, EXIT_BUG = 0, 1, 2, 3, 70

DEFAULT_KEEP_EVIDENCE_KEYS = ("csp", "xfo", "framework", "server", "routes")
PRESETS = frozenset(("chat", "embed", "app", "full"))
#: epoch seconds PostgreSQL and the views handle sanely: 1900-01-01 .. 9999-12-31
TS_MIN, TS_MAX = -2_208_988_800, 253_402_300_799
#: distinct values remembered per column cache before it is cleared (bounded memory)
CACHE_MAX = 50_000

#: devdiag.row_limit names; the values come from the warehouse, the one definition of the limits
ROW_LIMITS = ("tenant", "problem_code", "fix_code", "env_fp", "evidence")
#: minutes a run may lie in the future (clock skew) unless settings.max_future_minutes says otherwise
DEFAULT_MAX_FUTURE_MINUTES = 5
#: checks the warehouse enforces in a trigger; a refusal naming one is about the row
ROW_TRIGGER_CHECKS = ("diag_run_ts_not_in_future",)

RUN_COLUMNS = ("id", "ts", "tenant", "target_hash", "env_fp", "problems", "evidence", "preset")
FIX_COLUMNS = ("id", "ts", "tenant", "problem_code", "fix_code", "confidence", "support", "env_fp", "notes")
#: a digest is whole bytes: 32 to 128 hex digits, an even number (the tables' check says the same)
HEX_DIGEST = re.compile(r"(?:[0-9a-f]{2}){16,64}")
# COPY text format: backslash, tab, newline and carriage return must be escaped.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class BusyError(DevdiagError):
    """Nothing was synced because something else holds a lock; retry later."""


class Reject(Exception):
    """A row that cannot land; the message is the reason stored in sync_reject."""


class Refused:
    """A cached verdict on a value: why rows holding it are rejected."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------

@dataclass
class Settings:
    sqlite_path: str
    dsn: str
    source: str | None
    hash_targets: bool
    keep_evidence_keys: tuple[str, ...] | None  # None: read settings.keep_evidence_keys
    batch_rows: int
    busy_timeout: float
    dry_run: bool
    quiet: bool
    progress: bool
    from_start: bool


def sqlite_path_from_store(store: str) -> str | None:
    """``sqlite:///rel.db`` -> ``rel.db``; ``sqlite:////abs.db`` -> ``/abs.db``; else None."""
    if not isinstance(store, str) or not store.startswith("sqlite:"):
        return None
    rest = store[len("sqlite:"):]
    if rest.startswith("///"):
        return rest[3:] or None
    if rest.startswith("//"):
        return rest[2:] or None
    return rest or None


def resolve_settings(args: argparse.Namespace) -> Settings:
    config = load_config(args.config)
    learn = config.get("learn") or {}
    if not isinstance(learn, dict):
        raise DevdiagError("devdiag.yaml: learn must be a mapping")
    sync_cfg = learn.get("sync") or {}
    privacy = learn.get("privacy") or {}
    store = learn.get("store")

    sqlite_path = args.sqlite or os.environ.get("SQLITE_PATH") or sqlite_path_from_store(store)
    if not sqlite_path:
        raise DevdiagError("no SQLite store given: set SQLITE_PATH, pass --sqlite, "
                           "or set learn.store: sqlite:///path in devdiag.yaml")

    # The one resolution order, with PG_DSN as the sync's alias after DEVDIAG_DSN;
    # the local cluster only when one exists (the sync never creates a warehouse).
    dsn = warehouse(args.dsn, aliases=("PG_DSN",), config=args.config, announce=not args.quiet).dsn

    keep = privacy.get("keep_evidence_keys")
    if keep is not None:
        if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
            raise DevdiagError("devdiag.yaml: learn.privacy.keep_evidence_keys must be a list of strings")
        keep = tuple(keep)
    hash_targets = privacy.get("hash_targets", True)
    if not isinstance(hash_targets, bool):
        raise DevdiagError("devdiag.yaml: learn.privacy.hash_targets must be true or false")

    if args.batch_rows < 1:
        raise DevdiagError("--batch-rows must be at least 1")
    progress = args.progress if args.progress is not None else (sys.stderr.isatty() and not args.quiet)
    return Settings(
        sqlite_path=sqlite_path,
        dsn=libpq_dsn(dsn),
        source=args.source or os.environ.get("SYNC_SOURCE") or sync_cfg.get("source") or None,
        hash_targets=hash_targets,
        keep_evidence_keys=keep,
        batch_rows=args.batch_rows,
        busy_timeout=args.busy_timeout,
        dry_run=args.dry_run,
        quiet=args.quiet,
        progress=progress,
        from_start=args.from_start,
    )


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
        sql = ("SELECT id, ts, tenant, target_hash, env_fp, problems, evidence, preset FROM diag_run "
               "WHERE id > ? ORDER BY id LIMIT ?")
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

    def fix_outcomes(self, after: int, limit: int) -> list[tuple]:
        sql = ("SELECT id, ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes "
               "FROM fix_outcome WHERE id > ? ORDER BY id LIMIT ?")
        try:
            return self.conn.execute(sql, (after, limit)).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc).lower():
                raise self.error(exc) from None
        except sqlite3.Error as exc:
            raise self.error(exc) from None
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


# --------------------------------------------------------------------------
# Row checks and privacy (cheap Python, cached per distinct value)
# --------------------------------------------------------------------------

def _refuse_constant(name: str):
    raise Reject(f"not valid JSON for PostgreSQL ({name})")


def parse_json(text, column: str):
    if text is None:
        raise Reject(f"{column} is NULL")
    if not isinstance(text, str):
        raise Reject(f"{column} is not text")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except Reject as exc:
        raise Reject(f"{column} is {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise Reject(f"{column} is not valid JSON ({exc})") from None


def has_nul(value) -> bool:
    """True if a decoded JSON value holds U+0000 anywhere (PostgreSQL's jsonb cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any("\x00" in k or has_nul(v) for k, v in value.items())
    return False


def copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(COPY_ESCAPES)
    return value


def plain_text(value, column: str, required: bool) -> str:
    """A text column as a COPY field (``\\N`` for NULL)."""
    if value is None:
        if required:
            raise Reject(f"{column} is NULL")
        return "\\N"
    if not isinstance(value, str):
        raise Reject(f"{column} is not text ({type(value).__name__})")
    if "\x00" in value:
        raise Reject(f"{column} contains a NUL character (\\u0000)")
    if required and value == "":
        raise Reject(f"{column} is empty")
    return copy_text(value)


def epoch(value, column: str = "ts") -> str:
    if value.__class__ is int:
        if TS_MIN <= value <= TS_MAX:
            return str(value)
        raise Reject(f"{column} {value} is out of range")
    if value is None:
        raise Reject(f"{column} is NULL")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Reject(f"{column} is not a finite number")
        if TS_MIN <= value <= TS_MAX:
            return repr(value)
        raise Reject(f"{column} {value} is out of range")
    raise Reject(f"{column} is not a number ({type(value).__name__})")


class Privacy:
    """Target hashing and evidence filtering, as DevDiag's privacy settings say."""

    def __init__(self, hash_targets: bool, keep_evidence_keys):
        self.hash_targets = hash_targets
        self.keep = frozenset(keep_evidence_keys)
        self.keep_order = tuple(keep_evidence_keys)

    def target(self, value) -> str:
        if value is None:
            raise Reject("target_hash is NULL")
        if not isinstance(value, str):
            raise Reject(f"target_hash is not text ({type(value).__name__})")
        if value == "":
            raise Reject("target_hash is empty")
        lowered = value.lower()
        if HEX_DIGEST.fullmatch(lowered):
            return lowered
        if not self.hash_targets:
            raise Reject("target_hash is not a hex digest and learn.privacy.hash_targets is off")
        return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()

    def evidence(self, obj: dict) -> dict:
        return {k: obj[k] for k in self.keep_order if k in obj}

    def raw_row(self, columns: tuple[str, ...], row: tuple) -> str:
        """The SQLite row as JSON for sync_reject, with the privacy rules applied."""
        out = {}
        for col, value in zip(columns, row):
            if col == "target_hash" and isinstance(value, str) and value and not HEX_DIGEST.fullmatch(value.lower()):
                out[col] = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
                out["target_hash_note"] = "not a hex digest: SHA-256 of the stored value"
            elif col == "evidence" and value is not None:
                out[col] = self.withheld_or_filtered(value)
            else:
                out[col] = describe(value)
        return json.dumps(out, ensure_ascii=True, default=str)

    def withheld_or_filtered(self, value):
        if isinstance(value, str):
            try:
                obj = json.loads(value)
            except (ValueError, RecursionError):
                obj = None
            if isinstance(obj, dict):
                return self.evidence(obj)
            raw = value.encode("utf-8", "surrogatepass")
        else:
            raw = value if isinstance(value, bytes) else str(value).encode()
        return {"withheld": "not a JSON object, so its keys cannot be filtered",
                "length": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


class RunChecker:
    """Turns SQLite diag_run rows into COPY lines or reject reasons.

    Every column goes through a cache keyed by the raw value, so repeated
    values (tenants, targets, problem lists, evidence) are parsed once.
    """

    def __init__(self, privacy: Privacy, limits: dict | None = None, ts_max: float = TS_MAX):
        self.privacy = privacy
        self.limits = limits or {}
        self.ts_max = ts_max
        self.tenants: dict = {}
        self.targets: dict = {}
        self.envs: dict = {None: "\\N"}
        self.problems: dict = {}
        self.evidence: dict = {}

    def _cached(self, cache: dict, value, fn):
        try:
            hit = cache[value]
        except KeyError:
            try:
                hit = fn(value)
            except Reject as exc:
                # Keep the reason, not the exception: a re-raised exception
                # grows a traceback holding every batch it passed through.
                hit = Refused(str(exc))
            if len(cache) >= CACHE_MAX:
                cache.clear()
            cache[value] = hit
        if hit.__class__ is Refused:
            raise Reject(hit.reason)
        return hit

    def _problems(self, text) -> str:
        value = parse_json(text, "problems")
        if not isinstance(value, list):
            raise Reject(f"problems is not a JSON array ({type(value).__name__})")
        for code in value:
            if not isinstance(code, str):
                raise Reject("problems holds a value that is not a string")
            if code == "":
                raise Reject("problems holds an empty string")
            if "\x00" in code:
                raise Reject("problems holds a \\u0000 character")
            over_limit("problem code", code, self.limits.get("problem_code"))
        return copy_text(text)

    def _evidence(self, text) -> str:
        if text is None:
            return "{}"  # evidence is optional context: a missing object is an empty one
        value = parse_json(text, "evidence")
        if not isinstance(value, dict):
            raise Reject(f"evidence is not a JSON object ({type(value).__name__})")
        if "\\u0000" in text and has_nul(value):
            raise Reject("evidence holds a \\u0000 character")
        if value.keys() <= self.privacy.keep:
            kept_value, kept = value, text
        else:
            kept_value = self.privacy.evidence(value)
            try:
                kept = json.dumps(kept_value, ensure_ascii=True, allow_nan=False)
            except ValueError as exc:
                raise Reject(f"evidence holds a value PostgreSQL cannot store ({exc})") from None
        limit = self.limits.get("evidence")
        if limit is not None and len(kept) > limit // 6:
            # As the warehouse measures it: the stored JSON printed back as text.
            over_limit("evidence", json.dumps(kept_value, ensure_ascii=False), limit)
        return copy_text(kept)

    def _tenant(self, value) -> str:
        field = tenant_field(value)
        over_limit("tenant", value, self.limits.get("tenant"))
        return field

    def _env(self, value) -> str:
        field = env_field(value)
        if value is not None:
            over_limit("env_fp", value, self.limits.get("env_fp"))
        return field

    def _preset(self, value) -> str:
        if value is None:
            return "\\N"
        if value in PRESETS:
            return value
        raise Reject(f"unknown preset {describe(value)!r}")

    def check(self, rows: list[tuple], good_ids: list, lines: list, rejects: list) -> None:
        cached = self._cached
        tenants, targets, envs, problems, evidence = (self.tenants, self.targets, self.envs,
                                                      self.problems, self.evidence)
        target_fn = self.privacy.target
        problems_fn, evidence_fn, preset_fn = self._problems, self._evidence, self._preset
        tenant_fn, env_fn, ts_max = self._tenant, self._env, self.ts_max
        for row in rows:
            sid, ts, tenant, target, env, prob, evid, preset = row
            try:
                line = "\t".join((
                    str(sid),
                    epoch(ts),
                    cached(tenants, tenant, tenant_fn),
                    cached(targets, target, target_fn),
                    cached(envs, env, env_fn),
                    cached(problems, prob, problems_fn),
                    cached(evidence, evid, evidence_fn),
                    preset if preset in PRESETS else preset_fn(preset),
                ))
                if ts > ts_max:
                    raise Reject(f"ts {datetime.fromtimestamp(ts, timezone.utc).isoformat()} is in the future, past "
                                 "the clock skew the warehouse allows (settings.max_future_minutes)")
            except Reject as exc:
                rejects.append((sid, row, str(exc)))
                continue
            good_ids.append(sid)
            lines.append(line)


def tenant_field(value) -> str:
    return plain_text(value, "tenant", required=True)


def env_field(value) -> str:
    return plain_text(value, "env_fp", required=False)


def over_limit(what: str, value, limit: int | None) -> None:
    """Reject text longer than the warehouse's limit (bytes of UTF-8, as its checks count)."""
    if limit is not None and isinstance(value, str) and len(value) * 4 > limit:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise Reject(f"{what} is {size} bytes, over the warehouse's limit of {limit} (devdiag.row_limit)")


def check_fix_row(row: tuple, limits: dict | None = None) -> tuple:
    """A SQLite fix_outcome row as a staging tuple, or Reject."""
    sid, ts, tenant, problem, fix, confidence, support, env, notes = row
    limits = limits or {}
    epoch(ts)
    for col, value in (("tenant", tenant), ("problem_code", problem), ("fix_code", fix)):
        plain_text(value, col, required=True)
        over_limit(col, value, limits.get(col))
    plain_text(env, "env_fp", required=False)
    over_limit("env_fp", env, limits.get("env_fp"))
    plain_text(notes, "notes", required=False)
    if confidence is None:
        raise Reject("confidence is NULL")
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool):
        raise Reject(f"confidence is not a number ({describe(confidence)!r})")
    if not math.isfinite(confidence):
        raise Reject("confidence is not a finite number")
    if not 0 <= confidence <= 1:
        raise Reject(f"confidence {confidence} is outside [0, 1]")
    if support is None:
        raise Reject("support is NULL")
    if support.__class__ is not int:
        raise Reject(f"support is not an integer ({describe(support)!r})")
    if support < 0:
        raise Reject(f"support {support} is negative")
    return (sid, ts, tenant, problem, fix, float(confidence), support, env, notes)


# --------------------------------------------------------------------------
# The warehouse side
# --------------------------------------------------------------------------

STAGE_RUN_DDL = """
CREATE TEMP TABLE IF NOT EXISTS sync_stage_run (
    source_run_id bigint NOT NULL,
    ts double precision NOT NULL,
    tenant text NOT NULL,
    target_hash text NOT NULL,
    env_fp text,
    problems text NOT NULL,
    evidence text NOT NULL,
    preset text
) ON COMMIT DELETE ROWS
"""

STAGE_REJECT_DDL = """
CREATE TEMP TABLE IF NOT EXISTS sync_stage_reject (
    tenant text NOT NULL,
    table_name text NOT NULL,
    sqlite_id bigint NOT NULL,
    raw_row text NOT NULL,
    reason text NOT NULL
) ON COMMIT DELETE ROWS
"""

STAGE_FIX_DDL = """
CREATE TEMP TABLE IF NOT EXISTS sync_stage_fix (
    sqlite_id bigint NOT NULL,
    ts double precision NOT NULL,
    tenant text NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    confidence double precision NOT NULL,
    support bigint NOT NULL,
    env_fp text,
    notes text
) ON COMMIT DELETE ROWS
"""

# The common case: a batch entirely above the source's high water was never
# sent before (its row of sync_run_lock keeps other syncs of the source out), so a
# plain INSERT is enough; ON CONFLICT costs about a quarter more per row. Ids
# follow SQLite's order.
INSERT_NEW_RUNS = """
INSERT INTO devdiag.diag_run
    (ts, tenant, target_hash, env_fp, problems, evidence, preset, source_id, source_run_id)
SELECT to_timestamp(s.ts), s.tenant, s.target_hash, s.env_fp, s.problems::jsonb, s.evidence::jsonb,
       s.preset, %(source)s, s.source_run_id
FROM pg_temp.sync_stage_run AS s
WHERE s.source_run_id BETWEEN %(lo)s AND %(hi)s
ORDER BY s.source_run_id
"""

# Runs that may have been sent before: each lands once.
INSERT_RUNS = INSERT_NEW_RUNS + """ON CONFLICT ON CONSTRAINT diag_run_source_identity_unique DO NOTHING
"""

# Same, for a source re-read below its high water: runs archived since they
# landed must not come back into diag_run. The archive's key includes ts (it
# is partitioned by day), so the probe reads only the run's day.
INSERT_RUNS_NOT_ARCHIVED = """
INSERT INTO devdiag.diag_run
    (ts, tenant, target_hash, env_fp, problems, evidence, preset, source_id, source_run_id)
SELECT to_timestamp(s.ts), s.tenant, s.target_hash, s.env_fp, s.problems::jsonb, s.evidence::jsonb,
       s.preset, %(source)s, s.source_run_id
FROM pg_temp.sync_stage_run AS s
WHERE s.source_run_id BETWEEN %(lo)s AND %(hi)s
  AND NOT EXISTS (
      SELECT 1 FROM devdiag.diag_run_archive AS a
      WHERE a.tenant = s.tenant AND a.source_id = %(source)s AND a.source_run_id = s.source_run_id
        AND a.ts = to_timestamp(s.ts))
ORDER BY s.source_run_id
ON CONFLICT ON CONSTRAINT diag_run_source_identity_unique DO NOTHING
"""

# The UTC days of the batch's runs get their partitions before the runs
# land, in the batch's transaction (a retention job cannot move a day in between).
ENSURE_DAYS = """
SELECT devdiag.ensure_run_partitions(d.day, d.day)
FROM (SELECT DISTINCT date_trunc('day', to_timestamp(s.ts), 'UTC') AS day FROM pg_temp.sync_stage_run AS s) AS d
"""

STAGED_RUN_AS_JSON = """
SELECT s.tenant, row_to_json(s)::text FROM pg_temp.sync_stage_run AS s WHERE s.source_run_id = %s
"""

# A changed reject (new row, or different content or reason) counts as new.
LAND_REJECTS = """
INSERT INTO devdiag.sync_reject AS r (tenant, source_id, table_name, sqlite_id, raw_row, reason)
SELECT s.tenant, %(source)s, s.table_name, s.sqlite_id, s.raw_row, s.reason
FROM pg_temp.sync_stage_reject AS s
ON CONFLICT ON CONSTRAINT sync_reject_pkey DO UPDATE
SET raw_row = EXCLUDED.raw_row, reason = EXCLUDED.reason, rejected_at = now()
WHERE (r.raw_row, r.reason) IS DISTINCT FROM (EXCLUDED.raw_row, EXCLUDED.reason)
RETURNING 1
"""

ADVANCE_WATERMARK = """
UPDATE devdiag.sync_source
SET run_watermark = %(hi)s,
    run_high_water = greatest(run_high_water, %(hi)s),
    runs_synced = runs_synced + %(landed)s,
    rows_rejected = rows_rejected + %(rejected)s,
    fingerprint_run_id = coalesce(fingerprint_run_id, %(fp_id)s),
    fingerprint = coalesce(fingerprint, %(fp)s)
WHERE id = %(source)s
"""

# One pair per (tenant, problem, fix, env_fp): SQLite treats NULL env_fp as
# distinct, the warehouse does not, so such duplicates are merged here.
PAIR_STAGE = """
CREATE TEMP TABLE sync_stage_pair ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY min(f.sqlite_id)) AS pair_no,
       f.tenant, f.problem_code, f.fix_code, f.env_fp,
       sum(f.support)::bigint AS support,
       (array_agg(f.confidence ORDER BY f.sqlite_id DESC))[1] AS confidence,
       (array_agg(f.notes ORDER BY f.sqlite_id DESC))[1] AS notes,
       min(f.ts) AS first_ts,
       max(f.sqlite_id) AS sqlite_id,
       array_agg(f.sqlite_id ORDER BY f.sqlite_id) AS sqlite_ids
FROM pg_temp.sync_stage_fix AS f
GROUP BY f.tenant, f.problem_code, f.fix_code, f.env_fp
"""

# The source's stored state of staged pair p. Two branches, because an index
# lookup cannot take "env_fp IS NOT DISTINCT FROM": as one condition the probe
# read every environment of the (tenant, problem, fix) and filtered, which made
# an incremental sync of 6,700 changed pairs take 11 s instead of 0.3 s.
PAIR_STATE_OF = """
        SELECT s.id, s.support, s.confidence, s.notes, s.last_credited_at
        FROM devdiag.fix_outcome_source AS s
        WHERE s.tenant = p.tenant AND s.source_id = %(source)s AND s.problem_code = p.problem_code
          AND s.fix_code = p.fix_code AND s.env_fp = p.env_fp
        UNION ALL
        SELECT s.id, s.support, s.confidence, s.notes, s.last_credited_at
        FROM devdiag.fix_outcome_source AS s
        WHERE p.env_fp IS NULL AND s.tenant = p.tenant AND s.source_id = %(source)s
          AND s.problem_code = p.problem_code AND s.fix_code = p.fix_code AND s.env_fp IS NULL
    """

# For pairs whose support, confidence or notes changed since the source's last
# sync: remember the new state, add the growth (never the whole total) to
# fix_outcome, and move its ts to when the pair was last credited.
APPLY_PAIRS = """
WITH changed AS (
    SELECT p.*, o.support AS old_support, o.last_credited_at AS old_credited_at,
           CASE WHEN o.id IS NULL THEN to_timestamp(p.first_ts)
                WHEN p.support > o.support THEN %(seen_at)s
                ELSE o.last_credited_at END AS credited_at
    FROM pg_temp.sync_stage_pair AS p
    LEFT JOIN LATERAL (""" + PAIR_STATE_OF + """) AS o ON true
    WHERE p.pair_no BETWEEN %(lo)s AND %(hi)s
      AND (o.id IS NULL OR o.support <> p.support OR o.confidence <> p.confidence
           OR o.notes IS DISTINCT FROM p.notes)
),
state AS (
    INSERT INTO devdiag.fix_outcome_source AS o
        (tenant, source_id, problem_code, fix_code, env_fp, support, confidence, notes, sqlite_id,
         first_credited_at, last_credited_at)
    SELECT c.tenant, %(source)s, c.problem_code, c.fix_code, c.env_fp, c.support, c.confidence, c.notes,
           c.sqlite_id, to_timestamp(c.first_ts), c.credited_at
    FROM changed AS c
    ON CONFLICT ON CONSTRAINT fix_outcome_source_pair_unique DO UPDATE
    SET support = EXCLUDED.support, confidence = EXCLUDED.confidence, notes = EXCLUDED.notes,
        sqlite_id = EXCLUDED.sqlite_id, last_credited_at = EXCLUDED.last_credited_at, synced_at = now()
    RETURNING 1
),
grown AS (
    INSERT INTO devdiag.fix_outcome AS f (ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes)
    SELECT c.credited_at, c.tenant, c.problem_code, c.fix_code, c.confidence,
           c.support - coalesce(c.old_support, 0), c.env_fp, c.notes
    FROM changed AS c
    WHERE c.support >= coalesce(c.old_support, 0)
    ON CONFLICT ON CONSTRAINT fix_outcome_pair_unique DO UPDATE
    SET support = f.support + EXCLUDED.support,
        confidence = EXCLUDED.confidence,
        ts = CASE WHEN EXCLUDED.support > 0 THEN greatest(f.ts, EXCLUDED.ts) ELSE f.ts END,
        notes = coalesce(EXCLUDED.notes, f.notes)
    RETURNING 1
),
shrunk AS (
    UPDATE devdiag.fix_outcome AS f
    SET support = greatest(0, f.support + (c.support - c.old_support)), confidence = c.confidence
    FROM changed AS c
    WHERE c.support < c.old_support
      AND f.tenant = c.tenant AND f.problem_code = c.problem_code AND f.fix_code = c.fix_code
      AND f.env_fp IS NOT DISTINCT FROM c.env_fp
    RETURNING 1
)
SELECT (SELECT count(*) FROM state), (SELECT count(*) FROM grown), (SELECT count(*) FROM shrunk)
"""

COUNT_CHANGED_PAIRS = """
SELECT count(*)
FROM pg_temp.sync_stage_pair AS p
LEFT JOIN LATERAL (""" + PAIR_STATE_OF + """) AS o ON true
WHERE o.id IS NULL OR o.support <> p.support OR o.confidence <> p.confidence OR o.notes IS DISTINCT FROM p.notes
"""

#: errors a single bad row can cause; anything else (connection, privilege, lock) aborts the sync
ROW_ERRORS = ("DataError", "IntegrityError", "ProgramLimitExceeded")
#: the tables a row's own refusal may name (constraint violations name their table)
RUN_TABLES = ("diag_run", "sync_stage_run")
FIX_TABLES = ("fix_outcome", "fix_outcome_source", "sync_stage_pair", "sync_stage_fix")


def row_error_types():
    import psycopg

    return tuple(getattr(psycopg.errors, n) for n in ROW_ERRORS)


DAY_PARTITION = re.compile(r"_(p[0-9]{8}|default)$")


def caused_by_rows(exc, tables: tuple[str, ...]) -> bool:
    """Whether a refusal is about the rows sent (so the bad ones are isolated and rejected).

    An error raised for another table or from inside a function or trigger
    (a rollup that fails, say) is the warehouse's problem, not the rows': the
    sync stops instead of filing good rows as rejects.
    """
    diag = exc.diag
    table = diag.table_name
    if table and diag.schema_name == "devdiag_part":
        # a day partition (or the DEFAULT one) of a run table reports its own name
        table = DAY_PARTITION.sub("", table)
    if table and table not in tables:
        return False
    if diag.constraint_name in ROW_TRIGGER_CHECKS:
        return True
    context = diag.context or ""
    return "PL/pgSQL" not in context and "SQL function" not in context


def warehouse_fault(exc) -> DevdiagError:
    diag = exc.diag
    where = f" (table {diag.schema_name}.{diag.table_name})" if diag.table_name else ""
    context = (diag.context or "").strip().splitlines()
    return DevdiagError(
        f"the warehouse refused a batch for a reason that is not in the rows{where}: {diag.message_primary}"
        + (f" [{context[-1].strip()}]" if context else "") + "; nothing of this batch was written")


@dataclass
class Counts:
    runs_read: int = 0
    runs_landed: int = 0
    runs_present: int = 0
    runs_rejected: int = 0
    fixes_read: int = 0
    fixes_changed: int = 0
    fixes_rejected: int = 0
    rejects_new: int = 0
    rejects_known: int = 0


@dataclass
class Batch:
    lo: int
    hi: int
    n_rows: int
    good_ids: list = field(default_factory=list)
    data: bytes = b""
    rejects: list = field(default_factory=list)  # (sqlite_id, row, reason)


class Warehouse:
    def __init__(self, dsn: str):
        import psycopg

        self.psycopg = psycopg
        self.dsn = dsn
        try:
            self.conn = psycopg.connect(dsn, application_name="devdiag-sync")
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DevdiagError(
                f"cannot connect to the warehouse ({redact(dsn)}): {mask_secrets(first, dsn)}") from None
        self.row_errors = row_error_types()
        self.limits: dict = {}
        self.lock_conn = None

    def where(self) -> str:
        info = self.conn.info
        host = info.host if not info.host.startswith("/") else f"socket {info.host}"
        return f"{info.dbname} on {host}:{info.port}"

    def check_migrated(self) -> None:
        row = self.conn.execute(
            """SELECT to_regclass('devdiag.sync_source') IS NOT NULL,
                      to_regclass('devdiag.sync_reject') IS NOT NULL,
                      to_regclass('devdiag.fix_outcome_source') IS NOT NULL,
                      to_regclass('devdiag.sync_run_lock') IS NOT NULL,
                      EXISTS (SELECT 1 FROM pg_constraint
                              WHERE conname = 'diag_run_source_identity_unique')""").fetchone()
        self.conn.rollback()
        if not all(row):
            raise DevdiagError(
                f"the warehouse {self.where()} is not migrated for sync "
                "(devdiag.sync_source and friends are missing): run make migrate")

    def session_setup(self) -> None:
        c = self.conn
        # temp_buffers must be set before the first temporary table of the session.
        c.execute("SET temp_buffers = '64MB'")
        c.execute("SET lock_timeout = '60s'")
        c.execute("SET TimeZone = 'UTC'")
        for ddl in (STAGE_RUN_DDL, STAGE_REJECT_DDL, STAGE_FIX_DDL):
            c.execute(ddl)
        c.commit()

    def row_limits(self) -> dict:
        """The limits the warehouse's checks enforce (devdiag.row_limit), as the sync must apply them."""
        if not self.conn.execute("SELECT to_regprocedure('devdiag.row_limit(text)') IS NOT NULL").fetchone()[0]:
            self.conn.rollback()
            raise DevdiagError(f"the warehouse {self.where()} is not migrated for sync "
                               "(devdiag.row_limit is missing): run make migrate")
        rows = self.conn.execute("SELECT n, devdiag.row_limit(n) FROM unnest(%s::text[]) AS n",
                                 (list(ROW_LIMITS),)).fetchall()
        self.conn.rollback()
        self.limits = {n: v for n, v in rows if v is not None}
        return self.limits

    def newest_allowed_ts(self) -> float:
        """Epoch seconds past which a run is refused: the warehouse's clock plus settings.max_future_minutes."""
        row = self.conn.execute(
            """SELECT extract(EPOCH FROM now()),
                      (SELECT value #>> '{}' FROM devdiag.settings WHERE key = 'max_future_minutes')""").fetchone()
        self.conn.rollback()
        try:
            minutes = float(row[1]) if row[1] is not None else DEFAULT_MAX_FUTURE_MINUTES
        except ValueError:
            raise DevdiagError("devdiag.settings max_future_minutes must be a number") from None
        return min(float(row[0]) + 60 * minutes, TS_MAX)

    def keep_evidence_keys(self) -> tuple[str, ...]:
        row = self.conn.execute(
            "SELECT value FROM devdiag.settings WHERE key = 'keep_evidence_keys'").fetchone()
        self.conn.rollback()
        if row is None:
            return DEFAULT_KEEP_EVIDENCE_KEYS
        value = row[0]
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            raise DevdiagError("devdiag.settings keep_evidence_keys must be a JSON array of strings")
        return tuple(value)

    def source(self, name: str, path: str, register: bool) -> dict | None:
        c = self.conn
        if register:
            c.execute(
                """INSERT INTO devdiag.sync_source (name, sqlite_path) VALUES (%s, %s)
                   ON CONFLICT (name) DO UPDATE SET sqlite_path = EXCLUDED.sqlite_path""",
                (name, path))
            c.commit()
        row = c.execute(
            """SELECT id, run_watermark, run_high_water, fingerprint_run_id, fingerprint
               FROM devdiag.sync_source WHERE name = %s""", (name,)).fetchone()
        c.rollback()
        if row is None:
            return None
        return dict(zip(("id", "watermark", "high_water", "fp_id", "fp"), row))

    def lock(self, source_id: int) -> None:
        """Hold the source's row of devdiag.sync_run_lock until the sync ends, on a connection of its own.

        Only devdiag_syncer may lock that row (an advisory key could be taken by
        any login); NOWAIT: a second sync of the source steps aside at once.
        """
        psycopg = self.psycopg
        c = self.lock_conn = psycopg.connect(self.dsn, application_name="devdiag-sync-lock")
        c.execute("SET idle_in_transaction_session_timeout = 0")
        c.execute("INSERT INTO devdiag.sync_run_lock (source_id) VALUES (%s) ON CONFLICT DO NOTHING", (source_id,))
        c.commit()
        try:
            c.execute("SELECT 1 FROM devdiag.sync_run_lock WHERE source_id = %s FOR UPDATE NOWAIT", (source_id,))
        except psycopg.errors.LockNotAvailable:
            c.rollback()
            raise BusyError("another sync of this source is running (it holds the source's row of "
                            "devdiag.sync_run_lock); try again later") from None

    # -- runs -----------------------------------------------------------------
    def land_runs(self, batch: Batch, source: dict, privacy: Privacy, counts: Counts) -> None:
        c = self.conn
        landed = 0
        rejects = [(describe_tenant(row[2]), "diag_run", sid, privacy.raw_row(RUN_COLUMNS, row), reason)
                   for sid, row, reason in batch.rejects]
        with c.transaction():
            if batch.good_ids:
                with c.cursor() as cur:
                    with cur.copy("COPY pg_temp.sync_stage_run FROM STDIN") as cp:
                        cp.write(batch.data)
                c.execute(ENSURE_DAYS)
                ids = batch.good_ids
                if batch.lo > source["high_water"]:
                    landed = self._insert_new(source["id"], ids, rejects)
                else:
                    landed = self._insert_range(INSERT_RUNS_NOT_ARCHIVED, source["id"], ids, 0, len(ids), rejects)
            new = self._land_rejects(source["id"], rejects)
            c.execute(ADVANCE_WATERMARK, {
                "hi": batch.hi, "landed": landed, "rejected": new, "source": source["id"],
                "fp_id": source.get("new_fp_id"), "fp": source.get("new_fp")})
        source["watermark"] = batch.hi
        source["high_water"] = max(source["high_water"], batch.hi)
        refused = len(rejects) - len(batch.rejects)  # refused by the warehouse after staging
        counts.runs_read += batch.n_rows
        counts.runs_landed += landed
        counts.runs_rejected += len(rejects)
        counts.runs_present += len(batch.good_ids) - landed - refused
        counts.rejects_new += new
        counts.rejects_known += len(rejects) - new

    def _insert_new(self, source_id: int, ids: list, rejects: list) -> int:
        """Runs above the high water: a plain INSERT, or row by row isolation if anything is refused."""
        try:
            with self.conn.transaction():
                return self.conn.execute(INSERT_NEW_RUNS, {"source": source_id, "lo": ids[0], "hi": ids[-1]}).rowcount
        except self.row_errors as exc:
            if not caused_by_rows(exc, RUN_TABLES):
                raise warehouse_fault(exc) from None
            # A bad row, or runs that are there after all (the high water was lowered by hand),
            # in diag_run or already archived.
            return self._insert_range(INSERT_RUNS_NOT_ARCHIVED, source_id, ids, 0, len(ids), rejects)

    def _insert_range(self, sql: str, source_id: int, ids: list, i: int, j: int, rejects: list) -> int:
        """Insert staged runs ids[i:j]; on a row error, halve until the bad rows are isolated."""
        try:
            with self.conn.transaction():
                cur = self.conn.execute(sql, {"source": source_id, "lo": ids[i], "hi": ids[j - 1]})
                return cur.rowcount
        except self.row_errors as exc:
            if not caused_by_rows(exc, RUN_TABLES):
                raise warehouse_fault(exc) from None
            if j - i == 1:
                reason = "refused by the warehouse: " + (exc.diag.message_primary or str(exc))
                tenant, raw = self.conn.execute(STAGED_RUN_AS_JSON, (ids[i],)).fetchone()
                rejects.append((describe_tenant(tenant), "diag_run", ids[i], raw, reason))
                return 0
        mid = (i + j) // 2
        return (self._insert_range(sql, source_id, ids, i, mid, rejects)
                + self._insert_range(sql, source_id, ids, mid, j, rejects))

    def _land_rejects(self, source_id: int, rejects: list) -> int:
        if not rejects:
            return 0
        with self.conn.cursor() as cur:
            with cur.copy("COPY pg_temp.sync_stage_reject (tenant, table_name, sqlite_id, raw_row, reason) "
                          "FROM STDIN") as cp:
                for r in rejects:
                    cp.write_row(r)
            cur.execute(LAND_REJECTS, {"source": source_id})
            return len(cur.fetchall())

    # -- fix outcomes -------------------------------------------------------------
    def land_fixes(self, store: Store, source: dict, privacy: Privacy, counts: Counts, batch_rows: int,
                   apply: bool) -> None:
        c = self.conn
        rejects = []
        read = changed = 0
        with c.transaction() as tx:
            after = 0
            with c.cursor() as cur:
                with cur.copy("COPY pg_temp.sync_stage_fix FROM STDIN") as cp:
                    while True:
                        rows = store.fix_outcomes(after, batch_rows)
                        if not rows:
                            break
                        after = rows[-1][0]
                        read += len(rows)
                        for row in rows:
                            try:
                                cp.write_row(check_fix_row(row, self.limits))
                            except Reject as exc:
                                rejects.append((describe_tenant(row[2]), "fix_outcome", row[0],
                                                privacy.raw_row(FIX_COLUMNS, row), str(exc)))
            c.execute(PAIR_STAGE)
            if not apply:
                counts.fixes_read = read
                counts.fixes_changed = c.execute(COUNT_CHANGED_PAIRS, {"source": source["id"]}).fetchone()[0]
                counts.fixes_rejected = len(rejects)
                tx.force_rollback = True
                return
            n_pairs = c.execute("SELECT count(*) FROM pg_temp.sync_stage_pair").fetchone()[0]
            if n_pairs:
                changed = self._apply_pairs(source["id"], store.snapshot_at, 1, n_pairs, rejects)
            new = self._land_rejects(source["id"], rejects)
            c.execute("UPDATE devdiag.sync_source SET rows_rejected = rows_rejected + %s, last_sync_at = now() "
                      "WHERE id = %s", (new, source["id"]))
        counts.fixes_read = read
        counts.fixes_changed = changed
        counts.fixes_rejected = len(rejects)
        counts.rejects_new += new
        counts.rejects_known += len(rejects) - new

    def _apply_pairs(self, source_id: int, seen_at: datetime, lo: int, hi: int, rejects: list) -> int:
        try:
            with self.conn.transaction():
                state, _grown, _shrunk = self.conn.execute(
                    APPLY_PAIRS, {"source": source_id, "seen_at": seen_at, "lo": lo, "hi": hi}).fetchone()
                return state
        except self.row_errors as exc:
            if not caused_by_rows(exc, FIX_TABLES):
                raise warehouse_fault(exc) from None
            if lo == hi:
                reason = "refused by the warehouse: " + (exc.diag.message_primary or str(exc))
                for sqlite_id, tenant, raw in self.conn.execute(
                        """SELECT f.sqlite_id, f.tenant, row_to_json(f)::text
                           FROM pg_temp.sync_stage_fix AS f
                           JOIN pg_temp.sync_stage_pair AS p ON f.sqlite_id = ANY (p.sqlite_ids)
                           WHERE p.pair_no = %s""", (lo,)):
                    rejects.append((describe_tenant(tenant), "fix_outcome", sqlite_id, raw, reason))
                return 0
        mid = (lo + hi) // 2
        return (self._apply_pairs(source_id, seen_at, lo, mid, rejects)
                + self._apply_pairs(source_id, seen_at, mid + 1, hi, rejects))

    def close(self) -> None:
        for conn in (self.conn, self.lock_conn):
            try:
                if conn is not None:
                    conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection is best effort
                pass


def describe_tenant(value) -> str:
    """The tenant a reject is filed under: the row's tenant when it is usable text, else ''.

    "Usable" includes short enough for the reject table's key (an over-long
    tenant is one of the things a reject may be about).
    """
    if isinstance(value, str) and "\x00" not in value and len(value.encode("utf-8", "surrogatepass")) <= 1000:
        return value
    return ""


# --------------------------------------------------------------------------
# The sync
# --------------------------------------------------------------------------

class Producer(threading.Thread):
    """Reads and checks the next batches while the warehouse lands the current one."""

    def __init__(self, store: Store, checker: RunChecker, after: int, batch_rows: int, depth: int = 2):
        super().__init__(name="sqlite-reader", daemon=True)
        self.store, self.checker, self.after, self.batch_rows = store, checker, after, batch_rows
        self.out: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            after = self.after
            while not self.stop.is_set():
                rows = self.store.runs_after(after, self.batch_rows)
                if not rows:
                    break
                batch = Batch(lo=rows[0][0], hi=rows[-1][0], n_rows=len(rows))
                lines: list[str] = []
                self.checker.check(rows, batch.good_ids, lines, batch.rejects)
                if lines:
                    lines.append("")
                    batch.data = "\n".join(lines).encode("utf-8", "surrogatepass")
                after = batch.hi
                del rows, lines
                if not self.put(batch):
                    return
            self.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.put(exc)


#: a transaction the server rolled back for a deadlock or a serialization failure is tried again
RETRIES = 3


def retrying(wh: Warehouse, land) -> None:
    """Run one landing transaction, again after a deadlock (e.g. with a concurrent writer's triggers).

    The transaction was rolled back whole, and a batch or the fix outcome
    phase is built so that running it again is exact.
    """
    for attempt in range(RETRIES + 1):
        try:
            return land()
        except (wh.psycopg.errors.DeadlockDetected, wh.psycopg.errors.SerializationFailure,
                wh.psycopg.errors.TransactionRollback) as exc:
            if attempt == RETRIES:
                raise BusyError(f"the warehouse kept rolling the sync back ({exc.diag.message_primary}, "
                                f"{RETRIES + 1} attempts); try again later") from None
            time.sleep(0.2 * (attempt + 1))


def derive_source_name(store: Store) -> str | None:
    fp = store.fingerprint()
    if fp is not None:
        return "sqlite-" + fp[1][:16]
    row = store.one("SELECT id, ts, tenant, problem_code, fix_code, env_fp FROM fix_outcome ORDER BY id LIMIT 1")
    if row is None:
        return None
    digest = hashlib.sha256(json.dumps(["fix_outcome", *[describe(v) for v in row]]).encode()).hexdigest()
    return "sqlite-" + digest[:16]


def check_same_store(store: Store, source: dict, name: str) -> None:
    """Refuse a file that is not the store this source was synced from."""
    if source["fp_id"] is not None:
        now = store.run_digest_of(source["fp_id"])
        if now is not None and now != source["fp"]:
            raise DevdiagError(
                f"source '{name}' was synced from a different store before (its run {source['fp_id']} differs); "
                "give this file its own --source name")
    newest = store.one("SELECT max(id) FROM diag_run")[0]
    if newest is not None and newest < source["watermark"]:
        raise DevdiagError(
            f"source '{name}': the store's newest run id {newest} is below the watermark {source['watermark']}, "
            "so the file was replaced or truncated; sync it under a new --source name")


def progress_bar(total: int | None, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    try:
        sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
    except OSError:
        sized = False
    # A terminal that reports no size (some CI ptys) would get an empty bar.
    return tqdm(total=total, unit=" runs", unit_scale=True, file=sys.stderr, dynamic_ncols=sized,
                ncols=None if sized else 80, nrows=None if sized else 24, desc="sync", smoothing=0.1)


def sync(cfg: Settings, out=sys.stdout) -> int:
    started = time.monotonic()
    store = Store(cfg.sqlite_path, cfg.busy_timeout)
    wh = Warehouse(cfg.dsn)
    try:
        wh.check_migrated()
        wh.session_setup()
        keep = cfg.keep_evidence_keys if cfg.keep_evidence_keys is not None else wh.keep_evidence_keys()
        privacy = Privacy(cfg.hash_targets, keep)
        name = cfg.source or derive_source_name(store)
        if name is None:
            print(f"sync {cfg.sqlite_path}: the store is empty, nothing to sync", file=out)
            return EXIT_OK
        path = os.path.abspath(cfg.sqlite_path)
        source = wh.source(name, f"{socket.gethostname()}:{path}", register=not cfg.dry_run)
        if source is None:  # dry run of a source never synced
            source = {"id": 0, "watermark": 0, "high_water": 0, "fp_id": None, "fp": None}
        elif not cfg.dry_run:
            wh.lock(source["id"])
            source = wh.source(name, path, register=False)  # re-read under the lock
        check_same_store(store, source, name)
        if source["fp_id"] is None:
            fp = store.fingerprint()
            if fp is not None:
                source["new_fp_id"], source["new_fp"] = fp
        after = 0 if cfg.from_start else source["watermark"]
        if not cfg.quiet:
            mode = "dry run: " if cfg.dry_run else ""
            print(f"{mode}sync source '{name}' ({cfg.sqlite_path}) into {wh.where()}: runs after id {after}",
                  file=out)
            out.flush()
        total = None
        if cfg.progress:
            total = store.one("SELECT count(*) FROM diag_run WHERE id > ?", (after,))[0]
        bar = progress_bar(total, cfg.progress)
        counts = Counts()
        checker = RunChecker(privacy, wh.row_limits(), wh.newest_allowed_ts())
        producer = Producer(store, checker, after, cfg.batch_rows)
        producer.start()
        try:
            while True:
                item = producer.out.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                if cfg.dry_run:
                    counts.runs_read += item.n_rows
                    counts.runs_rejected += len(item.rejects)
                    counts.runs_landed += len(item.good_ids)
                else:
                    retrying(wh, lambda: wh.land_runs(item, source, privacy, counts))
                if bar is not None:
                    bar.update(item.n_rows)
        finally:
            producer.stop.set()
            producer.join(timeout=5)
            if bar is not None:
                bar.close()
        retrying(wh, lambda: wh.land_fixes(store, source, privacy, counts, cfg.batch_rows,
                                           apply=not cfg.dry_run))
    except wh.psycopg.errors.LockNotAvailable as exc:
        raise BusyError(f"a warehouse table stayed locked: {exc.diag.message_primary}") from None
    except wh.psycopg.errors.InsufficientPrivilege as exc:
        raise DevdiagError(f"the warehouse role lacks a privilege: {exc.diag.message_primary} "
                           "(the sync's login must be a member of devdiag_syncer)") from None
    except wh.psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if wh.conn.broken:
            raise DevdiagError(f"lost the warehouse connection: {first}") from None
        raise DevdiagError(f"the warehouse failed the sync: {first}") from None
    finally:
        wh.close()
        store.close()
    elapsed = time.monotonic() - started
    print(summary(cfg, name, counts, source, elapsed), file=out)
    if cfg.dry_run:
        return EXIT_REJECTED if counts.runs_rejected + counts.fixes_rejected else EXIT_OK
    return EXIT_REJECTED if counts.rejects_new else EXIT_OK


def summary(cfg: Settings, name: str, c: Counts, source: dict, elapsed: float) -> str:
    rate = c.runs_read / elapsed if elapsed > 0 else 0.0
    if cfg.dry_run:
        return (f"dry run of source '{name}': would copy {c.runs_landed} runs, reject {c.runs_rejected} runs; "
                f"fix outcomes: {c.fixes_read} read, {c.fixes_changed} would change, "
                f"{c.fixes_rejected} would be rejected; nothing written ({elapsed:.1f} s)")
    known = f" ({c.rejects_known} already known)" if c.rejects_known else ""
    return (f"sync source '{name}': runs {c.runs_read} read, {c.runs_landed} landed, "
            f"{c.runs_present} already present, {c.runs_rejected} rejected; "
            f"fix outcomes {c.fixes_read} read, {c.fixes_changed} changed, {c.fixes_rejected} rejected; "
            f"{c.rejects_new} new rejects{known}; watermark {source['watermark']}; "
            f"{elapsed:.1f} s, {rate:,.0f} runs/s")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sqlite", help="the DevDiag SQLite store (default: SQLITE_PATH, learn.store)")
    add_dsn_option(ap)
    ap.add_argument("--source", help="name of this store in the warehouse (default: SYNC_SOURCE, "
                                     "learn.sync.source, derived from the store)")
    ap.add_argument("--config", help="devdiag.yaml to read (default: DEVDIAG_CONFIG, ./devdiag.yaml)")
    ap.add_argument("--batch-rows", type=int, default=50_000, help="runs per COPY batch and commit (default 50000)")
    ap.add_argument("--busy-timeout", type=float, default=30.0,
                    help="seconds to wait for a SQLite file locked by a writer (default 30)")
    ap.add_argument("--quiet", action="store_true", help="print only the summary line (for cron)")
    ap.add_argument("--dry-run", action="store_true", help="report what would be copied; write nothing")
    ap.add_argument("--from-start", action="store_true",
                    help="re-read every run of the store; runs already in the warehouse are skipped")
    bar = ap.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show a progress bar (default: on a terminal, unless --quiet)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    try:
        args = parse_args(argv)
        return sync(resolve_settings(args))
    except BusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except DevdiagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("error: interrupted; the last committed batch is kept, run again to continue", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - a bug: show where
        traceback.print_exc()
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
