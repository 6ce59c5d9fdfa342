"""Day partitions of the run tables: created ahead and on demand, moved and purged whole."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from tests.rollups.rollup_support import mismatches


TARGETS = [("a" * 63) + str(i) for i in range(4)]


def day_start(days_ago: int) -> datetime:
    d = datetime.now(timezone.utc) - timedelta(days=days_ago)
    return d.replace(hour=0, minute=0, second=0, microsecond=0)


def partition_of(conn, parent: str, day: datetime):
    """The oid and name of the partition of ``parent`` holding ``day`` (None when the day has none)."""
    return conn.execute(
        """SELECT c.oid, c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = %s::regclass AND c.relname = %s""",
        (parent, f"{parent.split('.')[1]}_p{day:%Y%m%d}")).fetchone()


def land(conn, day: datetime, n: int = 12, tenant: str = "acme") -> None:
    """n runs spread over one UTC day, the problem coming and going on four targets."""
    conn.execute(
        """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
           SELECT %s::timestamptz + make_interval(hours => g * 23 / %s), %s, (%s::text[])[g %% 4 + 1],
                  CASE WHEN g %% 3 = 0 THEN '[]' ELSE '["CSP"]' END::jsonb, 'app'
           FROM generate_series(0, %s - 1) AS g""", (day, n, tenant, TARGETS, n))


def test_migrate_partitions_the_days_ahead_and_a_late_day_lands_in_the_default(pg, fresh_db):
    """Today and the days ahead have partitions; a run of a day without one lands in DEFAULT, nothing is refused."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        for ahead in range(0, 8):
            assert partition_of(conn, "devdiag.diag_run", day_start(-ahead)) is not None, ahead
        land(conn, day_start(400), n=3)
        assert conn.execute("SELECT count(*) FROM devdiag_part.diag_run_default").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone() == (3,)


def test_ensure_run_partitions_creates_each_missing_day_once_and_moves_its_waiting_runs(pg, fresh_db):
    """Runs waiting in DEFAULT move into the day's new partition; a second call creates nothing; views unchanged."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        land(conn, day_start(40))
        land(conn, day_start(38))
        before = conn.execute("SELECT * FROM devdiag.v_problem_counts ORDER BY 1, 2, 3").fetchall()
        created = conn.execute("SELECT devdiag.ensure_run_partitions(%s, %s)",
                               (day_start(40) + timedelta(hours=5), day_start(38) + timedelta(hours=1))).fetchone()[0]
        assert created == 3
        assert conn.execute("SELECT devdiag.ensure_run_partitions(%s, %s)",
                            (day_start(40), day_start(38))).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM devdiag_part.diag_run_default").fetchone() == (0,)
        part = partition_of(conn, "devdiag.diag_run", day_start(40))[1]
        assert conn.execute(f"SELECT count(*) FROM devdiag_part.{part}").fetchone() == (12,)  # noqa: S608
        assert conn.execute("SELECT * FROM devdiag.v_problem_counts ORDER BY 1, 2, 3").fetchall() == before
        assert mismatches(conn) == {}


@pytest.mark.parametrize(("lo", "hi", "message"), [
    ("2026-01-02", "2026-01-01", "is before"),
    ("2000-01-01", "2026-01-01", "at most 3660 days"),
    ("-infinity", "2026-01-01", "finite"),
    (None, "2026-01-01", "finite"),
])
def test_ensure_run_partitions_refuses_bad_bounds_and_creates_nothing(db, lo, hi, message):
    """Reversed, unbounded or too wide ranges are refused with a message naming the problem."""
    before = db.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'devdiag.diag_run'::regclass").fetchone()
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        db.execute("SELECT devdiag.ensure_run_partitions(%s, %s)", (lo, hi))
    db.rollback()
    assert db.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'devdiag.diag_run'::regclass"
                      ).fetchone() == before


def test_archiving_a_day_attaches_the_same_table_to_the_archive(pg, fresh_db):
    """The day's partition itself moves (same oid, same rows, no copy); archived_at is the move's time; views unchanged."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SELECT devdiag.ensure_run_partitions(%s, %s)", (day_start(200), day_start(199)))
        land(conn, day_start(200))
        land(conn, day_start(199))
        conn.commit()
        oid, _ = partition_of(conn, "devdiag.diag_run", day_start(200))
        rows = conn.execute("SELECT to_jsonb(d) FROM devdiag.diag_run d WHERE ts < %s ORDER BY id",
                            (day_start(199),)).fetchall()
        before = conn.execute("SELECT * FROM devdiag.v_ttr_days ORDER BY 1, 2, 3, 4").fetchall()
        moved = conn.execute("SELECT devdiag.archive_run_days(1, %s)", (day_start(100),)).fetchone()[0]
        conn.commit()
        assert moved == 12
        assert partition_of(conn, "devdiag.diag_run", day_start(200)) is None
        assert partition_of(conn, "devdiag.diag_run_archive", day_start(200)) == (oid, f"diag_run_archive_p{day_start(200):%Y%m%d}")
        assert conn.execute("SELECT to_jsonb(a) - 'archived_at' FROM devdiag.diag_run_archive a ORDER BY id"
                            ).fetchall() == rows
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run_archive WHERE archived_at > now() - interval '1 minute'"
                            ).fetchone() == (12,)
        # the day still in diag_run was not touched (p_max_days = 1)
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone() == (12,)
        assert conn.execute("SELECT * FROM devdiag.v_ttr_days ORDER BY 1, 2, 3, 4").fetchall() == before
        assert mismatches(conn) == {}


def bounds_check(conn, part: str):
    """The oid and definition of the validated CHECK constraint <part>_bounds (None when it has none)."""
    return conn.execute(
        """SELECT k.oid, pg_get_constraintdef(k.oid) FROM pg_constraint k
           WHERE k.conrelid = %s::regclass AND k.contype = 'c' AND k.convalidated AND k.conname = %s""",
        (f"devdiag_part.{part}", f"{part}_bounds")).fetchone()


def test_a_day_moves_to_the_archive_without_reading_its_rows_again(pg, fresh_db):
    """A day partition is made with a CHECK of its bounds; the move renames it, so the ATTACH skips its scan.

    A day made without one (by an older release) gets it at the move and lands whole all the same.
    """
    old, new = day_start(201), day_start(200)
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SELECT devdiag.ensure_run_partitions(%s, %s)", (old, new))
        land(conn, old)
        land(conn, new)
        live = bounds_check(conn, f"diag_run_p{new:%Y%m%d}")
        assert live is not None
        assert f"'{new:%Y-%m-%d} 00:00:00+00'" in live[1] and f"'{new + timedelta(days=1):%Y-%m-%d} 00:00:00+00'" in live[1]
        conn.execute(f"ALTER TABLE devdiag_part.diag_run_p{old:%Y%m%d} DROP CONSTRAINT diag_run_p{old:%Y%m%d}_bounds")
        conn.commit()
        notices: list[str] = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        conn.execute("SET client_min_messages = debug1")
        assert conn.execute("SELECT devdiag.archive_run_days(2, %s)", (day_start(100),)).fetchone() == (24,)
        conn.execute("RESET client_min_messages")
        conn.commit()
        # the constraint made with the partition, renamed: no second one was added (and validated by a scan)
        assert bounds_check(conn, f"diag_run_archive_p{new:%Y%m%d}") == (live[0], live[1])
        assert bounds_check(conn, f"diag_run_archive_p{old:%Y%m%d}") is not None
        for day in (old, new):  # (the ATTACH runs before the table takes the archive's name)
            assert f'partition constraint for table "diag_run_p{day:%Y%m%d}" is implied by existing constraints' in notices
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone() == (24,)
        assert mismatches(conn) == {}


def test_late_runs_of_an_archived_day_join_that_day_in_the_archive(pg, fresh_db):
    """A run landing after its day was archived waits in diag_run; the next move appends it to the archived day."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        land(conn, day_start(200))
        conn.execute("SELECT devdiag.archive_run_days(5, %s)", (day_start(100),))
        conn.commit()
        land(conn, day_start(200) + timedelta(minutes=30), n=2)
        conn.commit()
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone() == (2,)
        assert mismatches(conn) == {}
        before = conn.execute("SELECT * FROM devdiag.v_problem_episodes ORDER BY 1, 2, 3, 4").fetchall()
        assert conn.execute("SELECT devdiag.archive_run_days(5, %s)", (day_start(100),)).fetchone() == (2,)
        conn.commit()
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone() == (0,)
        part = partition_of(conn, "devdiag.diag_run_archive", day_start(200))[1]
        assert conn.execute(f"SELECT count(*) FROM devdiag_part.{part}").fetchone() == (14,)  # noqa: S608
        assert conn.execute("SELECT * FROM devdiag.v_problem_episodes ORDER BY 1, 2, 3, 4").fetchall() == before
        assert mismatches(conn) == {}


def test_purging_a_day_drops_its_partition_and_the_views_follow_the_runs_left(pg, fresh_db):
    """Purge takes the archived day's table out of the archive and the refresh drops it; every view then equals its
    raw reference over the runs that are left."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for days_ago in (300, 299, 298):
            land(conn, day_start(days_ago))
        conn.execute("SELECT devdiag.archive_run_days(10, %s)", (day_start(100),))
        conn.commit()
        oid, _ = partition_of(conn, "devdiag.diag_run_archive", day_start(300))
        purged = conn.execute("SELECT devdiag.purge_archive_days(1, %s)", (day_start(100),)).fetchone()[0]
        conn.commit()
        assert purged == 12
        assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhrelid = %s", (oid,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone() == (24,)
        assert conn.execute("SELECT count(*) FROM devdiag.v_run_all WHERE ts < %s", (day_start(299),)).fetchone() == (0,)
        assert mismatches(conn) == {}
        assert conn.execute("SELECT count(*) FROM pg_class WHERE oid = %s", (oid,)).fetchone() == (0,)


def test_a_killed_day_move_or_purge_leaves_the_day_where_it_was(pg, fresh_db):
    """A move or purge whose backend is terminated before commit changes nothing: same tables, same rows."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn, autocommit=True) as admin:
        land(admin, day_start(200))
        admin.execute("SELECT devdiag.archive_run_days(1, %s)", (day_start(100),))
        land(admin, day_start(150))
        state = "SELECT (SELECT count(*) FROM devdiag.diag_run), (SELECT count(*) FROM devdiag.diag_run_archive), " \
                "(SELECT count(*) FROM pg_inherits WHERE inhparent IN ('devdiag.diag_run'::regclass, " \
                "'devdiag.diag_run_archive'::regclass))"
        before = admin.execute(state).fetchone()
        for stmt in ("SELECT devdiag.archive_run_days(1, %s)", "SELECT devdiag.purge_archive_days(1, %s)"):
            victim = psycopg.connect(dsn)
            pid = victim.info.backend_pid
            assert victim.execute(stmt, (day_start(100),)).fetchone()[0] == 12
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(psycopg.OperationalError):
                victim.commit()
            assert admin.execute(state).fetchone() == before
        assert mismatches(admin) == {}


def test_a_writer_may_create_days_but_never_reach_a_partition(pg, fresh_db):
    """The writer role may call ensure_run_partitions; no role but the owner may use the partitions' schema."""
    with psycopg.connect(pg.superuser_dsn(fresh_db)) as su:
        su.execute("SET ROLE devdiag_writer")
        assert su.execute("SELECT devdiag.ensure_run_partitions(%s, %s)",
                          (day_start(90), day_start(90))).fetchone() == (1,)
        su.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash) VALUES (%s, 'acme', %s)",
                   (day_start(90), TARGETS[0]))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            su.execute(f"SELECT count(*) FROM devdiag_part.diag_run_p{day_start(90):%Y%m%d}")  # noqa: S608
        su.rollback()
        for role in ("devdiag_reader", "devdiag_analyst", "devdiag_monitor", "devdiag_writer"):
            assert su.execute("SELECT has_schema_privilege(%s, 'devdiag_part', 'USAGE')", (role,)).fetchone() == (False,)


def test_every_index_of_the_run_tables_leads_with_tenant_or_time(db):
    """A reader's filter must not run before the row policy on other tenants' rows: every run index starts with
    tenant, but the time index (newest runs first), whose comparisons are leakproof and so may run before the
    policy without revealing anything."""
    rows = db.execute(
        """SELECT i.indexrelid::regclass::text, a.attname
           FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           WHERE i.indrelid IN ('devdiag.diag_run'::regclass, 'devdiag.diag_run_archive'::regclass)""").fetchall()
    assert len(rows) == 10  # key, source identity, target index, ingest BRIN, time index: per table
    assert sorted(r[0].split(".")[-1] for r in rows if r[1] != "tenant") == [
        "diag_run_archive_ts_id_idx", "diag_run_ts_id_idx"]
    # every comparison of the time index's opclasses (timestamptz, bigint) is leakproof
    assert db.execute(
        """SELECT count(*), bool_and(p.proleakproof)
           FROM pg_index AS i
           CROSS JOIN LATERAL unnest(i.indclass) AS c (opc)
           JOIN pg_opclass AS oc ON oc.oid = c.opc
           JOIN pg_amop AS ao ON ao.amopfamily = oc.opcfamily
               AND ao.amoplefttype = oc.opcintype AND ao.amoprighttype = oc.opcintype
           JOIN pg_operator AS o ON o.oid = ao.amopopr
           JOIN pg_proc AS p ON p.oid = o.oprcode
           WHERE i.indexrelid = 'devdiag.diag_run_ts_id_idx'::regclass""").fetchone() == (10, True)
