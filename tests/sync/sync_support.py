"""Helpers of the sync tests: DevDiag SQLite stores and a snapshot of the warehouse."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import psycopg

from tests.commands import command

ROOT = Path(__file__).resolve().parents[2]

# The DevDiag learning store as the issue describes it (no NOT NULL: a real
# store may hold anything SQLite accepts, which is what the reject tests need).
SCHEMA = """
CREATE TABLE diag_run(id INTEGER PRIMARY KEY, ts INTEGER, tenant TEXT, target_hash TEXT, env_fp TEXT,
                      problems TEXT, evidence TEXT, preset TEXT);
CREATE TABLE fix_outcome(id INTEGER PRIMARY KEY, ts INTEGER, tenant TEXT, problem_code TEXT, fix_code TEXT,
                         confidence REAL, support INTEGER, env_fp TEXT, notes TEXT,
                         UNIQUE(tenant, problem_code, fix_code, env_fp));
"""

T0 = 1_760_000_000  # 2025-10-09 08:53:20 UTC


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def run_row(i: int, tenant: str = "acme", problems=("CSP_FRAME_ANCESTORS",), preset: str | None = "embed",
            target: str | None = None, evidence: dict | None = None, ts: int | None = None, env: str = "env-1"):
    """A valid DevDiag run: (ts, tenant, target_hash, env_fp, problems, evidence, preset)."""
    return (
        T0 + 60 * i if ts is None else ts,
        tenant,
        target if target is not None else digest(f"https://{tenant}.example.com/{i % 7}"),
        env,
        json.dumps(list(problems)),
        json.dumps(evidence if evidence is not None else {"framework": "react@18.3", "server": "nginx"}),
        preset,
    )


class Store:
    """A DevDiag SQLite learning store, written the way DevDiag writes it."""

    def __init__(self, path: Path, journal_mode: str = "wal"):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute(f"PRAGMA journal_mode = {journal_mode}")
        self.conn.executescript(SCHEMA)

    def add_runs(self, rows) -> list[int]:
        ids = []
        self.conn.execute("BEGIN")
        for row in rows:
            cur = self.conn.execute(
                "INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            ids.append(cur.lastrowid)
        self.conn.execute("COMMIT")
        return ids

    def add_raw_run(self, **cols) -> int:
        """Insert a run with exactly these columns (anything SQLite accepts)."""
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        return self.conn.execute(f"INSERT INTO diag_run ({names}) VALUES ({marks})", tuple(cols.values())).lastrowid

    def credit(self, tenant: str, problem: str, fix: str, env: str | None, add: int, conf: float,
               ts: int = T0) -> int:
        """DevDiag's update_support: a running total updated in place, ts set at first credit only."""
        row = self.conn.execute(
            "SELECT id FROM fix_outcome WHERE tenant = ? AND problem_code = ? AND fix_code = ? AND env_fp IS ?",
            (tenant, problem, fix, env)).fetchone()
        if row:
            self.conn.execute("UPDATE fix_outcome SET support = support + ?, confidence = ? WHERE id = ?",
                              (add, conf, row[0]))
            return row[0]
        return self.conn.execute(
            "INSERT INTO fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", (ts, tenant, problem, fix, conf, add, env)).lastrowid

    def add_raw_fix(self, **cols) -> int:
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        return self.conn.execute(f"INSERT INTO fix_outcome ({names}) VALUES ({marks})",
                                 tuple(cols.values())).lastrowid

    def close(self) -> None:
        self.conn.close()


def run_sync(sqlite_path, dsn: str, *args: str, env: dict | None = None, cwd=None, timeout: float = 300):
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("SQLITE_PATH", "PG_DSN", "DEVDIAG_DSN", "SYNC_SOURCE", "DEVDIAG_CONFIG")}
    full_env.update({"SQLITE_PATH": str(sqlite_path), "PG_DSN": dsn,
                     # no devdiag.yaml of the project: the tests say what they configure
                     "DEVDIAG_CONFIG": str(Path(cwd or ".") / "absent-devdiag.yaml")})
    full_env.update(env or {})
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run([*command("sync"), *args], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def start_sync(sqlite_path, dsn: str, *args: str, env: dict | None = None, cwd=None) -> subprocess.Popen:
    full_env = dict(os.environ)
    for k in ("DEVDIAG_DSN", "SYNC_SOURCE"):
        full_env.pop(k, None)
    full_env.update({"SQLITE_PATH": str(sqlite_path), "PG_DSN": dsn,
                     "DEVDIAG_CONFIG": str(Path(cwd or ".") / "absent-devdiag.yaml")})
    full_env.update(env or {})
    return subprocess.Popen([*command("sync"), *args], env=full_env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def warehouse_state(dsn: str) -> dict:
    """Everything the sync writes, without surrogate ids and wall-clock times.

    Two warehouses with the same state hold the same runs, outcomes, per-source
    state, rejects and watermarks: what "converges to one clean run" means.
    """
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        q = conn.execute
        return {
            "runs": q("""SELECT r.tenant, r.ts, r.target_hash, r.env_fp, r.problems::text, r.evidence::text,
                                r.preset, s.name, r.source_run_id
                         FROM devdiag.diag_run AS r LEFT JOIN devdiag.sync_source AS s ON s.id = r.source_id
                         ORDER BY s.name, r.source_run_id, r.tenant""").fetchall(),
            "fix_outcome": q("""SELECT tenant, problem_code, fix_code, env_fp, support, confidence, notes, ts
                                FROM devdiag.fix_outcome
                                ORDER BY tenant, problem_code, fix_code, env_fp NULLS FIRST""").fetchall(),
            "fix_outcome_source": q("""
                SELECT s.name, f.tenant, f.problem_code, f.fix_code, f.env_fp, f.support, f.confidence, f.notes,
                       f.sqlite_id, f.first_credited_at, f.last_credited_at
                FROM devdiag.fix_outcome_source AS f JOIN devdiag.sync_source AS s ON s.id = f.source_id
                ORDER BY 1, 2, 3, 4, 5 NULLS FIRST""").fetchall(),
            "sources": q("""SELECT name, run_watermark, run_high_water, runs_synced, rows_rejected,
                                   fingerprint_run_id, fingerprint, last_sync_at IS NOT NULL
                            FROM devdiag.sync_source ORDER BY name""").fetchall(),
            "rejects": q("""SELECT s.name, r.tenant, r.table_name, r.sqlite_id, r.raw_row, r.reason
                            FROM devdiag.sync_reject AS r JOIN devdiag.sync_source AS s ON s.id = r.source_id
                            ORDER BY 1, 3, 4""").fetchall(),
        }


def query(dsn: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.execute(sql, params).fetchall()


# Columns that differ between two correct runs: wall-clock times and surrogate
# ids (identity values consumed by a rolled-back batch are not reused).
WALL_CLOCK = {"created_at", "last_sync_at", "synced_at", "rejected_at", "updated_at", "archived_at",
              "granted_at", "refreshed_at"}
#: positions in devdiag.ingest_seq: a killed sync draws ids it never commits, a clean one does not
INGEST_POSITIONS = {"ingest_id", "folded_through"}


def full_state(dsn: str) -> dict:
    """Every table of devdiag and devdiag_rollup, found in the catalog, as sorted rows.

    Surrogate ids (``id``, ``source_id``, ``*_run_id`` except ``source_run_id``), ingest positions and
    the wall-clock columns above are left out; ``job_log`` (maintenance runs) too. (A sync killed while it
    registered its store draws a source id that is never committed: the next one takes the id after it.)
    """
    from psycopg import sql

    out = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        tables = conn.execute(
            """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname IN ('devdiag', 'devdiag_rollup') AND c.relkind IN ('r', 'p')
                 AND c.relname <> 'job_log' ORDER BY 1, 2""").fetchall()
        for schema, table in tables:
            cols = [r[0] for r in conn.execute(
                """SELECT a.attname FROM pg_attribute a
                   WHERE a.attrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass AND a.attnum > 0
                     AND NOT a.attisdropped ORDER BY a.attnum""", (schema, table))
                    if not (r[0] in ("id", "source_id") or (r[0].endswith("_run_id") and r[0] != "source_run_id")
                            or r[0] in WALL_CLOCK or r[0] in INGEST_POSITIONS)]
            rows = conn.execute(sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in cols),
                sql.Identifier(schema, table))).fetchall()
            out[table] = sorted(rows, key=lambda r: [("" if v is None else v) for v in r])
    return out
