"""Fixtures for the retention and scheduling tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from devdiag_warehouse import sample_data

# Every contract view whose result must not change when runs move to the archive.
ANALYTIC_VIEWS = {
    "v_problem_counts": "day, tenant, problem_code",
    "v_fix_success": "tenant, problem_code, fix_code",
    "v_fix_ranking": "tenant, problem_code, fix_code",
    "v_env_diversity": "tenant, problem_code",
    "v_ttr_days": "tenant, problem_code, target_hash, started_at",
    "v_open_problems": "tenant, target_hash, problem_code",
    "v_tenant_health": "tenant",
}


def snapshot(conn) -> dict[str, list[tuple]]:
    """Every analytic view's rows, in a full order."""
    out = {}
    for view, order in ANALYTIC_VIEWS.items():
        out[view] = conn.execute(f"SELECT * FROM devdiag.{view} ORDER BY {order}").fetchall()  # noqa: S608
    return out


@pytest.fixture
def history_db(pg, fresh_db):
    """A fresh warehouse holding 300 days of sample history ending now."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        gen = sample_data.Generated()
        sample_data.copy_to_pg(conn, sample_data.generate(3_000, 3, 300, seed=11, out=gen), gen)
    return fresh_db


def utc(days_ago: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days_ago)


@pytest.fixture
def view_snapshot():
    """``snapshot(conn)``: every analytic view's rows in a full order."""
    return snapshot
