"""Every contract view gives the same rows whatever the arrival order, the archive and the session TimeZone.

Each seed folder is loaded several ways inside savepoints of one rolled-back
transaction; the rendered rows of all eight contract views are compared.
"""

from __future__ import annotations

import pytest

from tests.views import golden_support as gs

CONCERNS = gs.seed_concerns()
ALL_VIEWS = list(gs.VIEW_QUERIES)
ANALYTICS_VIEWS = [v for v in ALL_VIEWS if v != "v_recent_activity"]


def snapshot(db, concern: str, timezone: str = "UTC", views=ALL_VIEWS, **load_kw) -> dict:
    scenario = gs.Scenario(concern, "", (concern,), timezone, tuple(views))
    with db.transaction(force_rollback=True):
        return gs.run_scenario(db, scenario, **load_kw)


def test_seeds_have_no_ts_ties_within_a_target():
    """Ties in ts would be broken by arrival order (id), so seeds avoid them to test pure ts order."""
    for concern in CONCERNS:
        keys = [(r["tenant"], r["target_hash"], r["ts"]) for r in gs.run_rows([concern])]
        assert len(keys) == len(set(keys)), concern


@pytest.mark.parametrize("concern", CONCERNS)
def test_arrival_order_does_not_change_any_view(db, concern):
    """Inserting the runs in file order, in ts order or reversed gives identical rows in every view."""
    as_written = snapshot(db, concern, order="file")
    assert snapshot(db, concern, order="ts") == as_written
    assert snapshot(db, concern, order="reverse") == as_written


@pytest.mark.parametrize("concern", CONCERNS)
def test_archiving_does_not_change_any_analytics_view(db, concern):
    """Moving runs to diag_run_archive (none, the seed's, all) changes no view but v_recent_activity."""
    live = snapshot(db, concern, views=ANALYTICS_VIEWS, archive="none")
    assert snapshot(db, concern, views=ANALYTICS_VIEWS, archive="seed") == live
    assert snapshot(db, concern, views=ANALYTICS_VIEWS, archive="all") == live


@pytest.mark.parametrize("concern", CONCERNS)
def test_recent_activity_shows_live_runs_only(db, concern):
    """With every run archived, v_recent_activity is empty; with none archived it lists every recent run."""
    everything = snapshot(db, concern, views=["v_recent_activity"], archive="all")["v_recent_activity"]
    assert everything[1:] == []
    live = snapshot(db, concern, views=["v_recent_activity"], archive="none")["v_recent_activity"]
    seeded = snapshot(db, concern, views=["v_recent_activity"], archive="seed")["v_recent_activity"]
    assert set(map(tuple, seeded)) <= set(map(tuple, live))


@pytest.mark.parametrize("concern", CONCERNS)
def test_session_timezone_does_not_change_any_view(db, concern):
    """New York, Kolkata, Chatham and a zone with a DST change this week give the rows of a UTC session."""
    now = db.execute("SELECT now()").fetchone()[0]
    utc = snapshot(db, concern, "UTC")
    for tz in ["America/New_York", "Asia/Kolkata", "Pacific/Chatham", gs.zone_with_dst_start(now)]:
        assert snapshot(db, concern, tz) == utc, tz
