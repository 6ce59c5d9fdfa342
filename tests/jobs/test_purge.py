"""Purging an archive day: the day leaves the archive at once, its runs leave the rollups at the next refresh.

The purge detaches the day and lists it with the watermarks of the moment; the
all-tenant refresh takes the runs it held out of the rollups and drops it.
Written from the operator's side: nothing is counted twice or lost whatever
runs in between (a refresh of one tenant, a rolled-back purge or refresh, a
rebuild), and a day dropped by hand gets a clear error.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.rollups.rollup_support import mismatches

DAY0 = (datetime.now(timezone.utc) - timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
ROLLUPS = ["rollup_problem_day", "rollup_problem_env", "rollup_problem_total", "rollup_tenant_hour",
           "rollup_tenant_total", "rollup_ttr_episode", "rollup_ttr_histogram", "rollup_episode_stat",
           "rollup_episode_day", "rollup_tenant_day", "rollup_resolved_day", "rollup_recurrence_day",
           "rollup_ttr_block"]


def target(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def insert_days(conn, tenant: str, days: int = 3) -> None:
    """Two targets per tenant, four runs a day each; a problem open across the days' edges, then cleared."""
    conn.execute(
        """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, preset)
           SELECT %s + make_interval(days => d, hours => h * 5 + 1), %s, encode(sha256((%s || t)::bytea), 'hex'),
                  'env', CASE WHEN (d + h + t) %% 3 = 0 THEN '[]'::jsonb ELSE '["CSP_MISSING"]'::jsonb END, 'full'
           FROM generate_series(0, %s - 1) AS d, generate_series(0, 3) AS h, generate_series(1, 2) AS t""",
        (DAY0, tenant, tenant, days))


def archive_all(conn) -> None:
    conn.execute("SELECT devdiag.archive_run_days(100, %s)", (DAY0 + timedelta(days=10),))


def dump(conn) -> dict:
    return {t: sorted(conn.execute(f"SELECT x::text FROM devdiag_rollup.{t} AS x").fetchall())  # noqa: S608
            for t in ROLLUPS}


def waiting(conn) -> list:
    return conn.execute("SELECT day, runs FROM devdiag_rollup.rollup_purged_day ORDER BY day").fetchall()


def kept_aside(conn) -> int:
    return conn.execute("""SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = 'devdiag_part' AND c.relname LIKE 'diag_run_archive_purged_%'
                             AND c.relkind = 'r'""").fetchone()[0]


@pytest.fixture
def archived(pg, fresh_db):
    """Three archived UTC days of two tenants, folded into the rollups."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        insert_days(conn, "acme")
        insert_days(conn, "globex")
        conn.commit()
        conn.execute("CALL devdiag.refresh_rollups()")
        archive_all(conn)
        conn.commit()
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone()[0] == 48
        yield conn


def test_the_day_leaves_the_archive_at_the_purge_and_the_rollups_at_the_next_refresh(archived):
    conn = archived
    before = dump(conn)
    assert conn.execute("SELECT devdiag.purge_archive_day(%s)", ((DAY0 + timedelta(days=1)).date(),)
                        ).fetchone()[0] == 16
    conn.commit()
    assert conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone()[0] == 32
    # the rollups wait for the refresh, and monitoring sees that something waits
    assert dump(conn) == before
    assert waiting(conn) == [((DAY0 + timedelta(days=1)).date(), 16)]
    assert kept_aside(conn) == 1
    assert conn.execute("SELECT lag_seconds > 0 FROM devdiag.v_monitor_rollups").fetchone()[0]
    conn.execute("CALL devdiag.refresh_rollups()")
    conn.commit()
    assert waiting(conn) == [] and kept_aside(conn) == 0
    assert dump(conn) != before
    assert mismatches(conn, refresh=False) == {}
    assert conn.execute("SELECT lag_seconds FROM devdiag.v_monitor_rollups").fetchone()[0] == 0


def test_runs_never_folded_stay_uncounted_when_a_tenant_refreshes_before_the_purge_is_folded(archived):
    """A run of the day written after the last refresh was never counted: a refresh of its tenant alone, between
    the purge and the all-tenant refresh, moves that tenant's watermark past it, and it must still not leave the
    counts (the watermarks of the purge decide)."""
    conn = archived
    conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                    VALUES (%s, 'acme', %s, '["CSP_MISSING"]', 'full')""",
                 (DAY0 + timedelta(hours=23), target("late")))
    archive_all(conn)
    conn.commit()
    assert conn.execute("SELECT devdiag.purge_archive_day(%s)", (DAY0.date(),)).fetchone()[0] == 17
    conn.commit()
    conn.execute("CALL devdiag.refresh_rollups('acme')")
    conn.commit()
    conn.execute("CALL devdiag.refresh_rollups()")
    conn.commit()
    assert waiting(conn) == []
    assert mismatches(conn, refresh=False) == {}


def test_a_rolled_back_purge_or_refresh_leaves_the_day_where_it_was(archived):
    conn = archived
    day = (DAY0 + timedelta(days=2)).date()
    conn.execute("SELECT devdiag.purge_archive_day(%s)", (day,))
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone()[0] == 48
    assert waiting(conn) == [] and kept_aside(conn) == 0
    conn.execute("SELECT devdiag.purge_archive_day(%s)", (day,))
    conn.commit()
    conn.execute("CALL devdiag.refresh_rollups()")
    conn.rollback()
    assert waiting(conn) == [(day, 16)] and kept_aside(conn) == 1
    assert mismatches(conn) == {}
    assert waiting(conn) == [] and kept_aside(conn) == 0


def test_the_same_day_purged_twice_before_a_refresh_leaves_once_each_time(archived):
    """A day purged, a late run of it archived again (its partition made anew) and purged again, then one refresh."""
    conn = archived
    day = DAY0 + timedelta(days=1)
    conn.execute("SELECT devdiag.purge_archive_day(%s)", (day.date(),))
    conn.commit()
    conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                    VALUES (%s, 'acme', %s, '[]', 'full')""", (day + timedelta(hours=2), target("acme1")))
    archive_all(conn)
    conn.commit()
    assert conn.execute("SELECT devdiag.purge_archive_day(%s)", (day.date(),)).fetchone()[0] == 1
    conn.commit()
    assert [n for _, n in waiting(conn)] == [16, 1] and kept_aside(conn) == 2
    assert mismatches(conn) == {}
    assert waiting(conn) == [] and kept_aside(conn) == 0


def test_a_rebuild_drops_the_days_waiting_and_counts_what_is_left(archived):
    conn = archived
    conn.execute("SELECT devdiag.purge_archive_day(%s)", (DAY0.date(),))
    conn.commit()
    conn.execute("SELECT devdiag.rollup_rebuild()")
    conn.commit()
    assert waiting(conn) == [] and kept_aside(conn) == 0
    assert mismatches(conn) == {}


def test_a_purged_day_dropped_by_hand_stops_the_refresh_with_a_way_out(archived):
    conn = archived
    conn.execute("SELECT devdiag.purge_archive_day(%s)", (DAY0.date(),))
    conn.commit()
    part = conn.execute("SELECT part::text FROM devdiag_rollup.rollup_purged_day").fetchone()[0]
    conn.execute(f"DROP TABLE {part}")  # noqa: S608 - a name from the catalog
    conn.commit()
    for tenant in [None, "acme"]:
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState,
                           match="dropped before its runs left the rollups"):
            conn.execute("CALL devdiag.refresh_rollups(%s)", (tenant,))
        conn.rollback()
    conn.execute("SELECT devdiag.rollup_rebuild()")
    conn.commit()
    assert waiting(conn) == []
    assert mismatches(conn) == {}
