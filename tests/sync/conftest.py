"""tests/sync: real DevDiag SQLite stores synced into a real, fresh warehouse.

Fixtures:

* ``store``      a factory for SQLite learning stores with the issue's schema (WAL mode);
* ``warehouse``  the DSN of a fresh migrated database the test may commit into;
* ``sync``       runs devdiag-sync as a subprocess (the real CLI,
                 exit status and output) against a store and a warehouse.
"""

from __future__ import annotations

import pytest

from tests.sync.sync_support import Store, run_sync  # noqa: E402


@pytest.fixture
def store(tmp_path):
    made = []

    def make(name: str = "devdiag.db", journal_mode: str = "wal") -> Store:
        s = Store(tmp_path / name, journal_mode=journal_mode)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def warehouse(pg, fresh_db) -> str:
    return pg.dsn(fresh_db)


@pytest.fixture
def sync(tmp_path):
    """Run the sync CLI; returns the CompletedProcess (stdout, stderr, returncode)."""
    def go(store: Store, dsn: str, *args: str, env: dict | None = None, rc: int | None = 0):
        res = run_sync(store.path, dsn, *args, env=env, cwd=tmp_path)
        if rc is not None:
            assert res.returncode == rc, (res.returncode, res.stdout, res.stderr)
        return res

    return go
