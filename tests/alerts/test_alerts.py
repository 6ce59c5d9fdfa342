"""Each alert query returns rows exactly when its condition holds (both ways, on fixtures)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import psycopg
import pytest

from tests.plans import planned_partitions

ALERTS = sorted((Path(__file__).resolve().parents[2] / "sql" / "alerts").glob("*.sql"))


def refresh(db) -> None:
    """Fold the rows inserted so far into the rollups: the views are exact as of the last refresh."""
    db.execute("CALL devdiag.refresh_rollups()")


def test_every_alert_file_says_what_fires_it():
    """Each file opens with a 'Fires when:' header and holds one statement."""
    assert len(ALERTS) >= 8
    for path in ALERTS:
        text = path.read_text()
        assert text.startswith("-- Fires when: "), path.name
        assert text.rstrip().endswith(";") and text.count(";") == 1, path.name


# -- DevDiag's two alerts ------------------------------------------

def test_high_problem_rate_fires_above_100_problem_reports_today(db, alert, add_runs):
    """101 problem reports today fire for that tenant only; 100 do not."""
    add_runs(db, 50, problems=["CSP", "XFO"])
    add_runs(db, 1, problems=["CSP"], tenant="globex")
    refresh(db)
    assert alert(db, "high_problem_rate") == []
    add_runs(db, 1, problems=["CSP"])
    refresh(db)
    rows = alert(db, "high_problem_rate")
    assert [(r["tenant"], r["daily_problems"]) for r in rows] == [("acme", 101)]


def test_high_problem_rate_ignores_yesterday_and_reads_its_threshold_from_settings(db, alert, add_runs, setting):
    """Reports before today's UTC midnight do not count; settings.alert_daily_problems moves the bar."""
    db.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                  SELECT devdiag.utc_day(now())::timestamp AT TIME ZONE 'UTC' - interval '1 minute', 'acme',
                         repeat('a', 64), '["CSP"]', 'app' FROM generate_series(1, 200)""")
    refresh(db)
    assert alert(db, "high_problem_rate") == []
    setting(db, "alert_daily_problems", 2)
    add_runs(db, 3, problems=["CSP"])
    refresh(db)
    assert [r["daily_problems"] for r in alert(db, "high_problem_rate")] == [3]


def test_low_fix_success_rate_fires_for_low_confidence_with_enough_successes(db, alert):
    """Confidence below 0.5 with more than 10 successes fires; 10 successes or 0.5 do not."""
    db.execute("""INSERT INTO devdiag.fix_outcome (tenant, problem_code, fix_code, confidence, support, env_fp)
                  VALUES ('acme', 'CSP', 'csp.fix', 0.3, 11, 'e1'),
                         ('acme', 'XFO', 'xfo.fix', 0.3, 10, 'e1'),
                         ('acme', 'CORS', 'cors.fix', 0.5, 50, 'e1')""")
    refresh(db)
    rows = alert(db, "low_fix_success_rate")
    assert [(r["tenant"], r["problem_code"], r["fix_code"]) for r in rows] == [("acme", "CSP", "csp.fix")]
    db.execute("UPDATE devdiag.fix_outcome SET confidence = 0.6 WHERE fix_code = 'csp.fix'")
    refresh(db)  # an update of a fix outcome takes a new ingest id: the refresh recomputes its group
    assert alert(db, "low_fix_success_rate") == []


# -- operators' alerts ----------------------------------------------------------

def test_no_recent_runs_fires_on_an_empty_warehouse_and_after_two_silent_hours(db, alert, add_runs):
    """No run at all, or none for over 120 minutes, fires; a run 119 minutes ago keeps it quiet."""
    assert alert(db, "no_recent_runs")[0]["last_run_at"] is None
    add_runs(db, ago="121 minutes")
    assert float(alert(db, "no_recent_runs")[0]["minutes_silent"]) == pytest.approx(121, abs=0.2)
    add_runs(db, ago="119 minutes")
    assert alert(db, "no_recent_runs") == []


def test_problem_dominating_today_fires_at_half_of_a_tenants_runs(db, alert, add_runs):
    """10 of 20 runs today reporting one code fire; 9 of 20, or 19 of 19, do not."""
    add_runs(db, 9, problems=["HYDRATION", "HYDRATION"])
    add_runs(db, 11)
    add_runs(db, 19, problems=["CSP"], tenant="globex")
    refresh(db)
    assert alert(db, "problem_dominating_today") == []
    db.execute("""UPDATE devdiag.diag_run SET problems = '["HYDRATION"]'
                  WHERE id = (SELECT min(id) FROM devdiag.diag_run WHERE tenant = 'acme' AND problems = '[]')""")
    refresh(db)
    rows = alert(db, "problem_dominating_today")
    assert [(r["tenant"], r["problem_code"], r["runs_with_problem"], r["runs_today"]) for r in rows] == [
        ("acme", "HYDRATION", 10, 20)]


def episode(db, tgt: str, resolved_days_ago: float, hours: float, tenant: str = "acme") -> None:
    """One remediation episode of CSP on a target: reported, then cleared by a run of the same preset."""
    th = hashlib.sha256(tgt.encode()).hexdigest()
    db.execute(
        """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) VALUES
           (now() - make_interval(secs => %(end)s) - make_interval(secs => %(len)s), %(t)s, %(h)s, '["CSP"]', 'app'),
           (now() - make_interval(secs => %(end)s), %(t)s, %(h)s, '[]', 'app')""",
        {"end": resolved_days_ago * 86400, "len": hours * 3600, "t": tenant, "h": th})


def test_ttr_regressing_fires_when_the_weeks_median_exceeds_one_and_a_half_times_the_baseline(db, alert):
    """Median 4h this week against 2h over the 28 days before fires; 2.5h does not."""
    for i in range(5):
        episode(db, f"base{i}", 10 + 3 * i, 2)
        episode(db, f"slow{i}", 1 + i, 2.5)
    refresh(db)
    assert alert(db, "ttr_regressing") == []
    db.execute("DELETE FROM devdiag.diag_run WHERE ts > now() - interval '7 days'")
    # a refresh does not see an owner's DELETE: recompute the rollups from the runs left
    db.execute("SELECT devdiag.rollup_rebuild()")
    for i in range(5):
        episode(db, f"slow{i}", 1 + i, 4)
    refresh(db)
    rows = alert(db, "ttr_regressing")
    assert [(r["tenant"], float(r["recent_median_hours"]), float(r["baseline_median_hours"])) for r in rows] == [
        ("acme", 4.0, 2.0)]


def test_ttr_regressing_needs_enough_episodes_in_both_windows(db, alert):
    """Four slow episodes this week are not enough evidence to fire."""
    for i in range(5):
        episode(db, f"base{i}", 10 + 3 * i, 2)
    for i in range(4):
        episode(db, f"slow{i}", 1 + i, 40)
    refresh(db)
    assert alert(db, "ttr_regressing") == []


def test_fix_confidence_dropping_fires_when_recent_credits_fall_02_below_the_baseline(db, alert):
    """Recent outcomes at 0.5 against older ones at 0.8 fire; recent ones at 0.7 do not."""
    db.execute("""INSERT INTO devdiag.fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp)
                  VALUES (now() - interval '20 days', 'acme', 'CSP', 'csp.fix', 0.8, 5, 'old1'),
                         (now() - interval '12 days', 'acme', 'CSP', 'csp.fix', 0.8, 5, 'old2'),
                         (now() - interval '1 day', 'acme', 'CSP', 'csp.fix', 0.7, 5, 'new1'),
                         (now() - interval '2 days', 'acme', 'XFO', 'csp.fix', 0.7, 5, 'new2'),
                         (now() - interval '1 day', 'globex', 'CSP', 'csp.fix', 0.1, 5, 'g1')""")
    assert alert(db, "fix_confidence_dropping") == []
    db.execute("UPDATE devdiag.fix_outcome SET confidence = 0.5 WHERE env_fp LIKE 'new%'")
    rows = alert(db, "fix_confidence_dropping")
    assert [(r["tenant"], r["fix_code"], float(r["recent_confidence"]), float(r["baseline_confidence"]))
            for r in rows] == [("acme", "csp.fix", 0.5, 0.8)]


def test_high_problem_rate_per_tenant_fires_above_half_of_the_last_24_hours(db, alert, add_runs):
    """11 of 20 runs with problems fire; 10 of 20, or a tenant under 20 runs, do not."""
    add_runs(db, 10, problems=["CSP"], ago="3 hours")
    add_runs(db, 10, ago="3 hours")
    add_runs(db, 5, problems=["CSP"], ago="25 hours")
    add_runs(db, 19, problems=["CSP"], tenant="globex")
    refresh(db)
    assert alert(db, "high_problem_rate_per_tenant") == []
    add_runs(db, 1, problems=["XFO"])
    refresh(db)
    rows = alert(db, "high_problem_rate_per_tenant")
    assert [(r["tenant"], r["problem_runs_24h"], r["runs_24h"]) for r in rows] == [("acme", 11, 21)]


def test_high_problem_rate_per_tenant_counts_exactly_the_24_hours_before_now(db, alert, setting):
    """The window's whole hours come from the hourly rollup, its oldest, partial hour from the raw runs (archived
    ones too): runs 24 hours old or younger count, older ones do not."""
    setting(db, "alert_problem_rate_min_runs", 1)
    setting(db, "alert_problem_run_share", 0)
    now = db.execute("SELECT now()").fetchone()[0]
    h, s = dt.timedelta(hours=1), dt.timedelta(seconds=1)
    for age in [24 * h + s, 24 * h, 24 * h - s, 12 * h, s]:
        db.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) "
                   "VALUES (%s, 'acme', repeat('c', 64), '[\"CSP\"]', 'app')", (now - age,))
    for run_id, age in [(1, 24 * h + 2 * s), (2, 24 * h - 2 * s)]:
        db.execute("INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, problems, evidence, preset) "
                   "VALUES (%s, %s, 'acme', repeat('c', 64), '[\"CSP\"]', '{}', 'app')", (run_id, now - age))
    refresh(db)
    rows = alert(db, "high_problem_rate_per_tenant")
    assert [(r["tenant"], r["runs_24h"], r["problem_runs_24h"]) for r in rows] == [("acme", 5, 5)]


def test_alerts_plan_only_the_days_that_may_hold_their_window(db):
    """Alerts read rollups; the raw runs one reads (the partial hour of a 24-hour window) are planned from a floor a
    day before the window, so no alert plans the old day partitions of a long history."""
    db.execute("SELECT devdiag.ensure_run_partitions(now() - interval '40 days', now() + interval '2 days')")
    floor = db.execute("SELECT devdiag.run_window_floor(interval '24 hours')").fetchone()[0]
    days = [r[0] for r in db.execute("SELECT * FROM devdiag.run_partition_days('devdiag.diag_run')")]
    may_hold = sum(1 for d in days if dt.datetime.combine(d, dt.time(), dt.timezone.utc) + dt.timedelta(days=1) > floor)
    assert len(days) - may_hold >= 35  # premise: most days lie before the floor
    for path in ALERTS:
        shown, removed = planned_partitions(db, path.read_text())
        # at most those days and the two DEFAULT partitions (live and archive)
        assert len(shown) + removed <= may_hold + 2, (path.name, len(shown) + removed)


def test_sync_stalled_fires_per_source_without_a_sync_for_two_hours(db, alert):
    """A source last synced 3 hours ago, or registered 3 hours ago and never synced, fires; fresh ones do not."""
    if db.execute("SELECT to_regclass('devdiag.sync_source')").fetchone()[0] is None:
        pytest.skip("devdiag.sync_source (the sync's migrations) is not in this tree")
    db.execute("""INSERT INTO devdiag.sync_source (name, created_at, last_sync_at) VALUES
                  ('laptop', now() - interval '10 days', now() - interval '3 hours'),
                  ('ci', now() - interval '10 days', now() - interval '1 hour'),
                  ('new-never', now() - interval '10 minutes', NULL),
                  ('old-never', now() - interval '3 hours', NULL)""")
    rows = alert(db, "sync_stalled")
    assert sorted(r["source"] for r in rows) == ["laptop", "old-never"]
    db.execute("UPDATE devdiag.sync_source SET last_sync_at = now()")
    assert alert(db, "sync_stalled") == []


def test_alert_queries_are_read_only(pg, session_db):
    """Every alert runs inside a READ ONLY transaction (the runner's mode) without error."""
    with psycopg.connect(pg.dsn(session_db)) as conn:
        for path in ALERTS:
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(path.read_text())
