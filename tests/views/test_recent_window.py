"""The "last 7 days" of v_recent_activity and runs_7d are the 168 hours before now(), in any session zone.

now() is fixed for a transaction, so these expectations are computed from it
rather than stored in golden files.
"""

from __future__ import annotations

import datetime as dt

import pytest
from psycopg.types.json import Jsonb

from tests.plans import planned_partitions
from tests.views import golden_support as gs

HASH = "deadbeef" * 4
H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)
# (age of the run, inside the window?)
AGES = [(168 * H + S, False), (168 * H, False), (168 * H - S, True), (167 * H + 30 * 60 * S, True), (S, True)]


def zones(now):
    return ["UTC", "America/New_York", "Asia/Kolkata", gs.zone_with_dst_start(now)]


def seed_window(db, now):
    for age, _ in AGES:
        db.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) "
                   "VALUES (%s, 'acme', %s, %s, 'chat')", (now - age, HASH, Jsonb(["cors_missing"])))
    # the views are exact as of the last refresh: fold the runs (rolled back with the test)
    db.execute("CALL devdiag.refresh_rollups()")


def test_dst_zone_really_changes_clocks_inside_the_window(db):
    """Premise of the tests below: in the synthetic zone, interval '7 days' is not 168 hours."""
    now = db.execute("SELECT now()").fetchone()[0]
    gs.set_timezone(db, gs.zone_with_dst_start(now))
    span = db.execute("SELECT now() - (now() - interval '7 days')").fetchone()[0]
    assert span == dt.timedelta(hours=167)


@pytest.mark.parametrize("zone_index", range(4), ids=["utc", "new_york", "kolkata", "dst_this_week"])
def test_recent_activity_keeps_runs_younger_than_168_hours(db, zone_index):
    """v_recent_activity lists exactly the live runs with ts > now() - 168 hours, in every session zone."""
    now = db.execute("SELECT now()").fetchone()[0]
    gs.set_timezone(db, zones(now)[zone_index])
    seed_window(db, now)
    got = {r[0] for r in db.execute("SELECT ts FROM devdiag.v_recent_activity")}
    assert got == {now - age for age, inside in AGES if inside}


@pytest.mark.parametrize("zone_index", range(4), ids=["utc", "new_york", "kolkata", "dst_this_week"])
def test_runs_7d_counts_runs_younger_than_168_hours(db, zone_index):
    """v_tenant_health.runs_7d counts the runs with ts > now() - 168 hours, in every session zone."""
    now = db.execute("SELECT now()").fetchone()[0]
    gs.set_timezone(db, zones(now)[zone_index])
    seed_window(db, now)
    got = db.execute("SELECT runs_7d FROM devdiag.v_tenant_health WHERE tenant = 'acme'").fetchone()
    assert got == (sum(inside for _, inside in AGES),)


def test_runs_7d_counts_the_archived_runs_of_the_partial_hour(db):
    """The window's oldest, partial hour is counted from the raw runs, archived ones included."""
    now = db.execute("SELECT now()").fetchone()[0]
    for run_id, age in [(1, 168 * H + S), (2, 168 * H - S)]:
        db.execute("INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, problems, evidence, preset) "
                   "VALUES (%s, %s, 'acme', %s, %s, '{}', 'chat')", (run_id, now - age, HASH, Jsonb(["cors_missing"])))
    db.execute("CALL devdiag.refresh_rollups()")
    got = db.execute("SELECT runs_7d FROM devdiag.v_tenant_health WHERE tenant = 'acme'").fetchone()
    assert got == (1,)


def test_recent_activity_plans_only_the_days_of_its_window(db):
    """Old day partitions are left out when the query is planned, not only when it starts: at hundreds of days,
    planning each of them was most of the view's time. The rows are those of the 168 hours all the same."""
    now = db.execute("SELECT now()").fetchone()[0]
    db.execute("SELECT devdiag.ensure_run_partitions(now() - interval '40 days', now() + interval '2 days')")
    old = (now - dt.timedelta(days=30)).astimezone(dt.timezone.utc).strftime("diag_run_p%Y%m%d")
    db.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) "
               "VALUES (%s, 'acme', %s, '[]', 'chat')", (now - dt.timedelta(days=30), HASH))
    seed_window(db, now)
    floor = db.execute("SELECT devdiag.run_window_floor(interval '168 hours')").fetchone()[0]
    assert now - dt.timedelta(hours=168 + 48) <= floor <= now - dt.timedelta(hours=168 + 24)
    days = [r[0] for r in db.execute("SELECT * FROM devdiag.run_partition_days('devdiag.diag_run')")]
    may_hold = sum(1 for d in days if dt.datetime.combine(d, dt.time(), dt.timezone.utc) + dt.timedelta(days=1) > floor)
    assert len(days) - may_hold >= 30  # premise: most days lie before the floor
    shown, removed = planned_partitions(db, "SELECT * FROM devdiag.v_recent_activity WHERE tenant = 'acme'")
    assert old not in shown
    # every day that may hold a row of the window, and the DEFAULT partition, at most
    assert len(shown) + removed <= may_hold + 1
    got = {r[0] for r in db.execute("SELECT ts FROM devdiag.v_recent_activity")}
    assert got == {now - age for age, inside in AGES if inside}
