"""Fixtures for backup and restore: a loaded warehouse and a way to compare two.

A database is compared by content, not by dump text: for every table of the
warehouse schemas, its row count and an md5 over its rows in a total order;
for every view, the same over the rows it returns.  Snapshots are taken as the
cluster superuser so row-level security never hides a row from the comparison.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devdiag_warehouse import sample_data
from tests.commands import command

ROOT = Path(__file__).resolve().parents[2]

# Columns rewritten by the restore itself (re-applying sql/ records when, and from which tree).
VOLATILE = {("devdiag_meta", "repeatable_state"): ["applied_at", "sha256"]}


def relations(conn, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.execute(
        r"""SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE (n.nspname = 'devdiag' OR n.nspname LIKE 'devdiag\_%%') AND c.relkind = ANY(%s)
            ORDER BY 1, 2""", (list(kinds),)).fetchall()]


def digest(conn, schema: str, name: str) -> tuple[int, str]:
    cols = [r[0] for r in conn.execute(
        """SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""", (schema, name)).fetchall()]
    cols = [c for c in cols if c not in VOLATILE.get((schema, name), [])]
    row = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(sql.Identifier("t", c) for c in cols))
    q = sql.SQL("SELECT count(*), coalesce(md5(string_agg({row}, E'\\n' ORDER BY {row})), '') FROM {rel} AS t").format(
        row=row, rel=sql.Identifier(schema, name))
    count, md5 = conn.execute(q).fetchone()
    return int(count), md5


def snapshot(dsn: str, kinds: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return {f"{s}.{n}": digest(conn, s, n) for s, n in relations(conn, kinds)}


@pytest.fixture
def tables_of():
    """Row count and content checksum of every table of the warehouse schemas (partitioned parents too)."""
    return lambda dsn: snapshot(dsn, ("r", "p"))


@pytest.fixture
def views_of():
    """Row count and content checksum of every view of the warehouse schemas."""
    return lambda dsn: snapshot(dsn, ("v", "m"))


def load_sample(dsn: str, runs: int = 3_000, seed: int = 11) -> None:
    """Sample history over 240 days, with the oldest runs moved to the archive."""
    with psycopg.connect(dsn) as conn:
        gen = sample_data.Generated()
        sample_data.copy_to_pg(conn, sample_data.generate(runs, 4, 240, seed=seed, out=gen), gen)
        cols = [r[0] for r in conn.execute(
            """SELECT column_name FROM information_schema.columns
               WHERE table_schema = 'devdiag' AND table_name = 'diag_run' AND column_name <> 'ingest_id'
               ORDER BY ordinal_position""").fetchall()]
        col_list = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
        conn.execute(sql.SQL(
            """WITH moved AS (DELETE FROM devdiag.diag_run WHERE ts < now() - interval '180 days' RETURNING *)
               INSERT INTO devdiag.diag_run_archive ({cols}) SELECT {cols} FROM moved""").format(cols=col_list))
        conn.execute("UPDATE devdiag.settings SET value = '200' WHERE key = 'retention_days'")
        if conn.execute("SELECT to_regclass('devdiag_rollup.rollup_refresh_state')").fetchone()[0] is not None:
            conn.execute("CALL devdiag.refresh_rollups()")


@pytest.fixture(name="load_sample")
def load_sample_fixture():
    """load_sample(dsn, runs=..., seed=...): sample history with archived runs, committed."""
    return load_sample


@pytest.fixture
def loaded_db(pg):
    """A fresh migrated clone holding sample runs, fix outcomes and archived runs (committed)."""
    name = pg.clone()
    load_sample(pg.superuser_dsn(name))
    yield name
    pg.drop(name)


@pytest.fixture
def cli():
    """Run one of the project's devdiag-* commands as an operator would; returns the CompletedProcess."""
    def run(script: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*command(script), *map(str, args)],
                              capture_output=True, text=True, timeout=300)
    return run
