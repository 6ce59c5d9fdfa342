"""Fixtures for the alert queries: seed rows relative to the transaction's now()."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

ALERTS = Path(__file__).resolve().parents[2] / "sql" / "alerts"


def target(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


@pytest.fixture
def alert():
    """alert(db, 'no_recent_runs') -> the rows the alert file returns, as dicts."""
    def run(db, name: str) -> list[dict]:
        (path,) = [p for p in ALERTS.glob("*.sql") if p.stem.split("_", 1)[1] == name]
        cur = db.execute(path.read_text())
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    return run


@pytest.fixture
def add_runs():
    """add_runs(db, n, ago='0 minutes', tenant='acme', problems=[], preset='app', tgt='t1')."""
    def add(db, n: int = 1, ago: str = "0 minutes", tenant: str = "acme", problems=(), preset: str = "app",
            tgt: str = "t1") -> None:
        db.execute(
            """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset)
               SELECT now() - %s::interval, %s, %s, 'env1', %s::jsonb, '{}', %s FROM generate_series(1, %s)""",
            (ago, tenant, target(tgt), json.dumps(list(problems)), preset, n))
    return add


@pytest.fixture
def setting():
    """setting(db, key, value): override an alert threshold inside the test's transaction."""
    def put(db, key: str, value) -> None:
        db.execute(
            """INSERT INTO devdiag.settings (key, value, description) VALUES (%s, %s::jsonb, 'test')
               ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""", (key, json.dumps(value)))
    return put
