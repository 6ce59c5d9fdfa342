"""Fixtures for the analysts' tests: a small, hand-made history with known answers.

The scenario (all times UTC, March 2025), chosen so every dashboard number can
be worked out by hand:

* acme, target A (preset embed): CSP_FRAME_ANCESTORS and XFO_DENY appear on
  03-01; XFO is cleared on 03-02 (23 h), CSP on 03-04 (74 h); CSP comes back on
  03-06 08:00 and a ``full`` run clears it at 20:00 (12 h): a recurrence.
* acme, target B (preset chat): OVERLAY_BLOCKING, listed twice in one run on
  03-03; an ``app`` run on 03-05 does not speak for a chat episode, so it stays open.
* globex, target C (preset full): MIXED_CONTENT at 23:59 on 03-02, cleared two
  minutes later on 03-03 (one UTC day, 0.0333 h); a clean run on 02-20, before
  the window.
* Learned fixes: see ``SCENARIO_FIXES``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import psycopg
import pytest

A, B, C = "a" * 64, "b" * 64, "c" * 64


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# (ts, tenant, target_hash, env_fp, problems, preset)
SCENARIO_RUNS = [
    (utc("2025-03-01 10:00"), "acme", A, "e1", ["CSP_FRAME_ANCESTORS", "XFO_DENY"], "embed"),
    (utc("2025-03-02 09:00"), "acme", A, "e1", ["CSP_FRAME_ANCESTORS"], "embed"),
    (utc("2025-03-04 12:00"), "acme", A, "e2", [], "embed"),
    (utc("2025-03-06 08:00"), "acme", A, "e2", ["CSP_FRAME_ANCESTORS"], "embed"),
    (utc("2025-03-06 20:00"), "acme", A, "e1", [], "full"),
    (utc("2025-03-03 00:30"), "acme", B, "e3", ["OVERLAY_BLOCKING", "OVERLAY_BLOCKING"], "chat"),
    (utc("2025-03-05 00:30"), "acme", B, "e3", [], "app"),
    (utc("2025-03-02 23:59"), "globex", C, "g1", ["MIXED_CONTENT"], "full"),
    (utc("2025-03-03 00:01"), "globex", C, "g1", [], "full"),
    (utc("2025-02-20 12:00"), "globex", C, "g1", [], "full"),
]

# (ts, tenant, problem_code, fix_code, confidence, support, env_fp)
SCENARIO_FIXES = [
    (utc("2025-03-04 12:00"), "acme", "CSP_FRAME_ANCESTORS", "csp.add_frame_ancestors", 0.95, 3, "e1"),
    (utc("2025-03-06 20:00"), "acme", "CSP_FRAME_ANCESTORS", "csp.add_frame_ancestors", 0.75, 1, "e2"),
    (utc("2025-03-02 09:00"), "acme", "XFO_DENY", "xfo.remove_header", 0.6, 1, "e1"),
    (utc("2025-03-02 09:00"), "acme", "XFO_DENY", "xfo.sameorigin_to_csp", 0.4, 2, "e1"),
    (utc("2025-03-03 00:01"), "globex", "MIXED_CONTENT", "https.upgrade_insecure_requests", 0.5, 1, "g1"),
]

WINDOW = (date(2025, 3, 1), date(2025, 3, 6))


def load_scenario(conn: psycopg.Connection) -> None:
    """Insert the scenario through the writers' own INSERT statements (caller commits)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
            "VALUES (%s, %s, %s, %s, %s, '{}', %s)",
            [(ts, t, h, e, json.dumps(p), pr) for ts, t, h, e, p, pr in SCENARIO_RUNS])
        cur.executemany(
            "INSERT INTO devdiag.fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)", SCENARIO_FIXES)
        cur.execute("CALL devdiag.refresh_rollups()")


def insert_history(conn: psycopg.Connection, runs, gen) -> int:
    """Insert generated runs and fix outcomes (devdiag_warehouse.sample_data) with INSERT.

    COPY FROM is refused on tables with row-level security, even for their
    owner under FORCE, so this goes through the writers' INSERT instead.
    """
    from datetime import datetime as dt

    from devdiag_warehouse import sample_data

    rows = [(dt.fromtimestamp(ts, timezone.utc), t, h, e, p, ev, pr) for ts, t, h, e, p, ev, pr in runs]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
        cur.executemany(
            "INSERT INTO devdiag.fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp, "
            "notes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(dt.fromtimestamp(last, timezone.utc), t, p, f, c, s, e, n)
             for _first, last, t, p, f, c, s, e, n in sample_data.fix_rows(gen)])
        cur.execute("CALL devdiag.refresh_rollups()")
    return len(rows)


@pytest.fixture(scope="package")
def scenario_db(pg):
    """A clone holding the scenario, committed (psql, report and dbt connect on their own)."""
    name = pg.clone()
    with psycopg.connect(pg.dsn(name)) as conn:
        load_scenario(conn)
    yield name
    pg.drop(name)


@pytest.fixture(scope="session")
def scenario_loader():
    """``load_scenario`` for fixtures of other modules (test modules cannot import conftest)."""
    return load_scenario


@pytest.fixture(scope="session")
def history_loader():
    """``insert_history`` for fixtures and tests of other modules."""
    return insert_history
