"""The rollups are folded from the runs by devdiag.refresh_rollups(), above a watermark of ingest ids.

Written from the operator's and the attacker's side: runs are invisible to the
views until a refresh and exact after it; a refresh never skips a run whose
transaction was still open when it looked; a refresh of one tenant needs, and
writes, only that tenant's rows; no trigger on a tenant table uses a
transition table (a distributed table cannot have one); the lag is visible to
monitoring.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql

from tests.rollups.rollup_support import mismatches

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def target(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def insert(conn, tenant: str, n: int, hours_ago: float = 1.0, problems: str = '["CSP_MISSING"]') -> None:
    conn.execute(
        "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, preset) "
        "SELECT %s - make_interval(mins => g), %s, %s, 'env', %s::jsonb, 'full' FROM generate_series(1, %s) AS g",
        (NOW - timedelta(hours=hours_ago), tenant, target(f"{tenant}/site"), problems, n))


def runs_in_view(conn, tenant: str) -> int:
    row = conn.execute("SELECT sum(runs) FROM devdiag.v_tenant_daily WHERE tenant = %s", (tenant,)).fetchone()
    return int(row[0] or 0)


def test_runs_reach_the_views_at_the_refresh_and_monitoring_sees_the_wait(pg, fresh_db):
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        insert(conn, "acme", 30)
        conn.commit()
        assert runs_in_view(conn, "acme") == 0
        pending, lag = conn.execute("SELECT pending_ids, lag_seconds FROM devdiag.v_monitor_rollups").fetchone()
        assert pending >= 30 and lag >= 0
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (30,)
        conn.commit()
        assert runs_in_view(conn, "acme") == 30
        assert conn.execute("SELECT pending_ids, lag_seconds FROM devdiag.v_monitor_rollups").fetchone() == (0, 0)
        # a second refresh folds nothing twice
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (0,)
        assert runs_in_view(conn, "acme") == 30
        assert mismatches(conn) == {}


def test_a_refresh_never_skips_a_run_whose_transaction_was_open(pg, fresh_db):
    """A writer draws low ingest ids and commits after a later writer: the refresh waits or folds neither."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as slow, psycopg.connect(dsn) as fast, psycopg.connect(dsn, autocommit=True) as job:
        insert(slow, "acme", 5, hours_ago=3)          # low ids, transaction left open
        insert(fast, "acme", 7, hours_ago=2)          # higher ids, committed first
        fast.commit()
        # the slow writer is still in flight: the refresh gives up instead of folding past it
        assert job.execute("CALL devdiag.refresh_rollups(p_lock_wait => '200 milliseconds')").fetchone() == (None,)
        assert runs_in_view(job, "acme") == 0
        # a refresh that waits for it: it starts waiting, the writer commits, both batches fold
        result: list = []
        t = threading.Thread(target=lambda: result.append(
            psycopg.connect(dsn, autocommit=True).execute("CALL devdiag.refresh_rollups()").fetchone()))
        t.start()
        slow.commit()
        t.join(timeout=30)
        assert result == [(12,)]
        assert runs_in_view(job, "acme") == 12
        assert mismatches(job, refresh=False) == {}


@pytest.mark.parametrize("replay_read", ["probe", "scan"])
@pytest.mark.parametrize("which", ["one tenant", "a set of tenants"])
def test_a_refresh_of_some_tenants_reads_and_writes_only_theirs(pg, fresh_db, replay_read, which):
    """Every other tenant's rows are made invisible and unwritable to the owner: a refresh of one tenant, or of a
    set of tenants, still folds exactly, whether the episode replay probes each target's days or scans them."""
    mine = ["acme"] if which == "one tenant" else ["acme", "initech"]
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SELECT set_config('devdiag.replay_read', %s, false)", (replay_read,))
        insert(conn, "acme", 20)
        insert(conn, "initech", 4)
        insert(conn, "globex", 15)
        conn.commit()
        tables = [r[0] for r in conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace JOIN pg_attribute AS a ON a.attrelid = c.oid "
            "WHERE n.nspname IN ('devdiag', 'devdiag_rollup') AND c.relkind IN ('r', 'p') "
            "AND a.attname = 'tenant' AND NOT a.attisdropped AND c.relname <> 'tenant_grant'")]
        assert {"devdiag.diag_run", "devdiag_rollup.rollup_ttr_episode", "devdiag_rollup.rollup_tenant_watermark"} <= set(tables)
        with conn.transaction():
            for t in tables:
                conn.execute(sql.SQL(
                    "CREATE POLICY only_mine ON {} AS RESTRICTIVE FOR ALL TO devdiag_owner "
                    "USING (tenant = ANY ({mine})) WITH CHECK (tenant = ANY ({mine}))").format(
                        sql.SQL(t), mine=sql.Literal(mine)))
            assert conn.execute("SELECT count(*) FROM devdiag.diag_run WHERE tenant = 'globex'").fetchone() == (0,)
            if which == "one tenant":
                assert conn.execute("CALL devdiag.refresh_rollups('acme')").fetchone() == (20,)
            else:
                assert conn.execute("CALL devdiag.refresh_rollups(p_tenants => %s)", (mine,)).fetchone() == (24,)
            for t in tables:
                conn.execute(sql.SQL("DROP POLICY only_mine ON {}").format(sql.SQL(t)))
        conn.commit()
        assert runs_in_view(conn, "acme") == 20
        assert runs_in_view(conn, "initech") == (4 if "initech" in mine else 0)
        assert runs_in_view(conn, "globex") == 0          # not folded by this refresh
        assert mismatches(conn, refresh=False), "globex's runs should still be waiting"
        # the all-tenant refresh folds the others and does not fold these twice
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (15 + (0 if "initech" in mine else 4),)
        assert [runs_in_view(conn, t) for t in ("acme", "initech", "globex")] == [20, 4, 15]
        assert mismatches(conn, refresh=False) == {}


def test_a_refresh_of_a_set_skips_what_each_tenant_had_folded_alone(pg, fresh_db):
    """Tenants of one set whose own watermarks differ: each run is folded once, from each tenant's own watermark."""
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        insert(conn, "acme", 5, hours_ago=3)
        assert conn.execute("CALL devdiag.refresh_rollups('acme')").fetchone() == (5,)
        insert(conn, "initech", 6, hours_ago=2)
        insert(conn, "acme", 3, hours_ago=1)
        assert conn.execute("CALL devdiag.refresh_rollups(p_tenants => %s)",
                            (["initech", "acme", "acme"],)).fetchone() == (9,)
        assert conn.execute("CALL devdiag.refresh_rollups(p_tenants => %s)", (["acme", "initech"],)).fetchone() == (0,)
        assert conn.execute("CALL devdiag.refresh_rollups(p_tenants => '{}')").fetchone() == (0,)
        assert (runs_in_view(conn, "acme"), runs_in_view(conn, "initech")) == (8, 6)
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (0,)
        assert mismatches(conn, refresh=False) == {}


RUNS_READ = """SELECT coalesce(sum(s.seq_tup_read + coalesce(s.idx_tup_fetch, 0)), 0)
                FROM pg_stat_xact_user_tables AS s JOIN pg_inherits AS h ON s.relid = h.inhrelid
                WHERE h.inhparent = 'devdiag.diag_run'::regclass"""


def test_the_all_tenant_refresh_after_the_sets_reads_their_runs_once(pg, fresh_db):
    """Once refreshes of sets of tenants folded every run, the all-tenant refresh reads the range only to find
    that out (to lock the tenants with rows left), not a second time to fold nothing; runs written after the sets
    are still folded by it."""
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        insert(conn, "acme", 40, hours_ago=3)
        insert(conn, "initech", 30, hours_ago=2)
        for tenants in (["acme"], ["initech"]):
            conn.execute("CALL devdiag.refresh_rollups(p_tenants => %s)", (tenants,))
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (0,)
        assert conn.execute(RUNS_READ).fetchone()[0] == 70
        conn.commit()
        insert(conn, "globex", 5, hours_ago=1)
        conn.commit()
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (5,)
        conn.commit()
        assert runs_in_view(conn, "globex") == 5
        assert mismatches(conn, refresh=False) == {}


def test_the_estimate_of_runs_to_fold_counts_exactly_where_it_samples_every_page_or_too_few(pg, fresh_db):
    """`make refresh --workers` splits tenants by an estimate from a sample of pages; a short range (a sample
    with too few of its runs) and a sample of every page give the exact counts."""
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        for k, tenant in enumerate(["acme", "globex", "initech"]):
            insert(conn, tenant, 30 + 10 * k, hours_ago=1 + k)
        conn.execute("CALL devdiag.refresh_rollups('acme')")
        exact = [("initech", 50), ("globex", 40)]
        assert conn.execute("SELECT tenant, runs FROM devdiag.rollup_pending_runs()").fetchall() == exact
        assert conn.execute("SELECT tenant, runs FROM devdiag.rollup_pending_estimate()").fetchall() == exact
        assert conn.execute("SELECT tenant, runs FROM devdiag.rollup_pending_estimate(100, 1)").fetchall() == exact
        for bad in (0, 101, None):
            with pytest.raises(psycopg.errors.InvalidParameterValue, match="p_sample_percent must be above 0"):
                conn.execute("SELECT * FROM devdiag.rollup_pending_estimate(%s)", (bad,))


@pytest.mark.parametrize(("call", "error", "message"), [
    ("CALL devdiag.refresh_rollups('acme', p_tenants => '{globex}')", psycopg.errors.InvalidParameterValue,
     "give p_tenant or p_tenants, not both"),
    ("CALL devdiag.refresh_rollups(p_tenants => '{acme,NULL}')", psycopg.errors.NullValueNotAllowed,
     "p_tenants holds a NULL tenant"),
])
def test_a_refresh_of_tenants_asked_for_wrongly_says_what_is_wrong(pg, fresh_db, call, error, message):
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        insert(conn, "acme", 2)
        with pytest.raises(error, match=message):
            conn.execute(call)
        assert runs_in_view(conn, "acme") == 0


def in_thread(errors: list[BaseException], fn, *args) -> threading.Thread:
    """A thread running fn(*args) whose exception, if any, lands in errors for the test's assertion."""
    def body() -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
    return threading.Thread(target=body)


def refresh_until(dsn: str, stop: threading.Event, tenant: str | list[str] | None) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            if isinstance(tenant, list):
                conn.execute("CALL devdiag.refresh_rollups(p_tenants => %s, p_lock_wait => '1 second')", (tenant,))
            else:
                conn.execute("CALL devdiag.refresh_rollups(%s, '1 second')", (tenant,))


@pytest.mark.parametrize("change", ["DELETE FROM devdiag.diag_run WHERE id = %(id)s",
                                    "UPDATE devdiag.diag_run SET ts = ts + interval '30 minutes', problems = '[]' WHERE id = %(id)s"],
                         ids=["deleted", "moved"])
def test_a_run_a_replay_took_in_before_it_was_folded_leaves_when_the_owner_changes_it(pg, fresh_db, change):
    """A run committed while a refresh waits for its tenant is past that refresh's safe point, so it is not folded
    (its id is above the watermark), but the refresh's replay of its target reads it. Deleted or moved by the owner
    before the next refresh, it must leave the episodes too: the next refresh replays its target from it."""
    t = target("seen-unfolded")
    now = datetime.now(timezone.utc)
    run = ("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) "
           "VALUES (%s, 'acme', %s, '[\"CSP\"]', 'app') RETURNING id")
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as owner, \
            psycopg.connect(pg.dsn(fresh_db)) as holder, psycopg.connect(pg.dsn(fresh_db), autocommit=True) as refresher:
        owner.execute("SET TimeZone = 'UTC'")
        owner.execute(run, (now - timedelta(hours=3), t))
        holder.execute("SELECT devdiag.take_lock(7236111, hashtext('acme'))")  # acme's refresh lock, held
        pid = refresher.info.backend_pid
        errors: list[BaseException] = []
        th = in_thread(errors, refresher.execute, "CALL devdiag.refresh_rollups()")
        th.start()
        deadline = time.monotonic() + 30
        while owner.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0] != "Lock":
            assert time.monotonic() < deadline, "the refresh never waited for acme's lock"
            time.sleep(0.05)
        # past the refresh's safe point: its id is above the watermark the refresh will set
        late = owner.execute(run, (now - timedelta(hours=1), t)).fetchone()[0]
        holder.commit()
        th.join(30)
        assert not errors and not th.is_alive()
        watermark = owner.execute("SELECT folded_through FROM devdiag_rollup.rollup_refresh_state").fetchone()[0]
        assert owner.execute("SELECT ingest_id FROM devdiag.diag_run WHERE id = %s", (late,)).fetchone()[0] > watermark
        # the replay read it all the same
        assert owner.execute("SELECT last_seen FROM devdiag.v_problem_episodes WHERE target_hash = %s",
                             (t,)).fetchone()[0] == now - timedelta(hours=1)
        owner.execute(change, {"id": late})
        assert mismatches(owner) == {}


def test_refreshes_run_beside_writers_and_each_other(pg, fresh_db):
    """Writers of three tenants, an all-tenant refresher, a one-tenant refresher and refreshers of two sets of
    tenants (one of them overlapping the one tenant) at once: no refresh deadlocks, and the views end exact."""
    dsn = pg.dsn(fresh_db)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(tenant: str) -> None:
        with psycopg.connect(dsn) as conn:
            for i in range(25):
                insert(conn, tenant, 3 + i % 4, hours_ago=1 + (i * 7) % 48,
                       problems='["CSP_MISSING"]' if i % 3 else "[]")
                conn.commit()

    writers = [in_thread(errors, write, t) for t in ("acme", "globex", "initech")]
    refreshers = [in_thread(errors, refresh_until, dsn, stop, t)
                  for t in (None, "acme", ["globex", "acme"], ["initech"])]
    for t in writers + refreshers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in refreshers:
        t.join()
    assert not errors, "\n\n".join(map(str, errors))
    with psycopg.connect(dsn) as conn:
        assert mismatches(conn) == {}


def test_archive_and_purge_run_beside_writers_and_refreshes(pg, fresh_db):
    """Writers of late runs over ten days, the retention job's archive and purge of old days, an all-tenant and a
    one-tenant refresher, all at once: no error, nothing left waiting, and the views end exact."""
    dsn = pg.dsn(fresh_db)
    stop = threading.Event()
    writers_done = threading.Event()
    errors: list[BaseException] = []
    purged: list[int] = []

    def write(tenant: str) -> None:
        with psycopg.connect(dsn) as conn:
            for i in range(30):
                insert(conn, tenant, 2 + i % 3, hours_ago=2 + 24 * (i % 10) + i % 5,
                       problems='["CSP_MISSING"]' if i % 3 else "[]")
                conn.commit()

    def retention() -> None:
        # Keeps going after the writers until a purge has taken something, so that it always overlaps the refreshers.
        deadline = time.monotonic() + 60
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not (writers_done.is_set() and sum(purged)) and time.monotonic() < deadline:
                conn.execute("SELECT devdiag.archive_run_days(3, now() - interval '3 days')")
                purged.append(conn.execute(
                    "SELECT devdiag.purge_archive_days(3, now() - interval '6 days')").fetchone()[0])

    writers = [in_thread(errors, write, t) for t in ("acme", "globex")]
    keeper = in_thread(errors, retention)
    refreshers = [in_thread(errors, refresh_until, dsn, stop, t) for t in (None, "acme")]
    for t in [*writers, keeper, *refreshers]:
        t.start()
    for t in writers:
        t.join()
    writers_done.set()
    keeper.join()
    stop.set()
    for t in refreshers:
        t.join()
    assert not errors, "\n\n".join(map(str, errors))
    assert sum(purged) > 0
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT devdiag.archive_run_days(100, now() - interval '3 days')")
        assert conn.execute("SELECT devdiag.purge_archive_days(100, now() - interval '6 days')").fetchone()[0] >= 0
        conn.commit()
        assert mismatches(conn) == {}
        assert conn.execute("SELECT count(*) FROM devdiag_rollup.rollup_purged_day").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0] > 0


def test_a_rebuild_that_cannot_have_the_run_tables_changes_nothing(pg, fresh_db):
    """Another session holding the run tables in SHARE mode (an index build) past the rebuild's wait: the rebuild
    fails with lock_not_available and the rollups are as they were; once it is gone the rebuild goes through."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        for i in range(12):
            insert(conn, "acme", 2 + i % 3, hours_ago=1 + 6 * i, problems='["CSP_MISSING"]' if i % 2 else "[]")
        conn.commit()
        conn.execute("CALL devdiag.refresh_rollups()")
        conn.commit()

        def rollups() -> tuple:
            return conn.execute(
                "SELECT (SELECT array_agg(t::text ORDER BY t::text) FROM devdiag_rollup.rollup_tenant_total AS t), "
                "(SELECT array_agg(e::text ORDER BY e::text) FROM devdiag_rollup.rollup_ttr_episode AS e), "
                "(SELECT folded_through FROM devdiag_rollup.rollup_refresh_state)").fetchone()

        before = rollups()
        assert before[0] and before[1]
        with psycopg.connect(dsn) as holder:
            holder.execute("LOCK TABLE devdiag.diag_run IN SHARE MODE")
            with pytest.raises(psycopg.errors.LockNotAvailable, match="stayed locked by another session"):
                conn.execute("SELECT devdiag.rollup_rebuild(interval '200 milliseconds')")
            conn.rollback()
            assert rollups() == before
            conn.commit()
        conn.execute("SELECT devdiag.rollup_rebuild(interval '200 milliseconds')")
        conn.commit()
        assert rollups() == before
        assert mismatches(conn) == {}


def test_no_trigger_on_a_tenant_table_uses_a_transition_table(pg, fresh_db):
    """Distributed tables cannot have transition-table triggers: the rollups must not depend on any."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        rows = conn.execute(
            """SELECT g.tgrelid::regclass::text, g.tgname
               FROM pg_trigger AS g
               JOIN pg_class AS c ON g.tgrelid = c.oid
               WHERE c.relnamespace IN ('devdiag'::regnamespace, 'devdiag_part'::regnamespace)
                 AND EXISTS (SELECT FROM pg_attribute AS a
                             WHERE a.attrelid = c.oid AND a.attname = 'tenant' AND NOT a.attisdropped)
                 AND (g.tgoldtable IS NOT NULL OR g.tgnewtable IS NOT NULL)
               ORDER BY 1, 2""").fetchall()
        assert rows == []


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_a_refresh_in_batches_folds_the_same(pg, fresh_db, batch):
    """A backfill folds in bounded batches of ingest ids; the batch size changes nothing in the result."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        for i, tenant in enumerate(["acme", "globex", "acme"]):
            insert(conn, tenant, 9, hours_ago=5 * (3 - i), problems='["XFO"]' if i else "[]")
        conn.execute("CALL devdiag.refresh_rollups(p_batch => %s)", (batch,))
        assert mismatches(conn, refresh=False) == {}


def test_a_purge_after_an_unfolded_delete_of_an_episodes_first_run_stays_exact(pg, fresh_db):
    """An episode's first run deleted from the archive (not folded yet), then the day of its later run purged:
    the purge's replay must not seed the episode from the deleted run, and the next refresh is exact."""
    day = (datetime.now(timezone.utc) - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    t = target("purge-after-delete")
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        owner.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) VALUES
                         (%s, 'acme', %s, '["CSP"]', 'embed'), (%s, 'acme', %s, '["CSP"]', 'embed')""",
                      (day + timedelta(hours=1), t, day + timedelta(days=2, hours=1), t))
        owner.execute("CALL devdiag.refresh_rollups()")
        owner.execute("SELECT devdiag.archive_run_days(100, %s)", (day + timedelta(days=5),))
        owner.commit()
        owner.execute("DELETE FROM devdiag.diag_run_archive WHERE ts = %s", (day + timedelta(hours=1),))
        owner.commit()
        assert owner.execute("SELECT devdiag.purge_archive_day(%s)", ((day + timedelta(days=2)).date(),)).fetchone()[0] == 1
        owner.commit()
        assert mismatches(owner) == {}
        assert owner.execute("SELECT count(*) FROM devdiag.v_problem_episodes WHERE target_hash = %s",
                             (t,)).fetchone()[0] == 0


@pytest.mark.parametrize("replay_read", ["probe", "scan"])
def test_two_purged_parts_of_one_day_are_forgotten_as_one(pg, fresh_db, replay_read):
    """A day archived, purged, and archived and purged again (a late run of it came in between) is kept aside twice.
    An episode that began in the later part and went on in the earlier one must not be replayed from the earlier
    part alone, seeded from a run that is gone with the other part (it found no run there and kept no last_seen):
    one refresh forgets both, exactly."""
    day = (datetime.now(timezone.utc) - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    t = target("purged-twice")
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        owner.execute("SELECT set_config('devdiag.replay_read', %s, false)", (replay_read,))
        run = "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) VALUES (%s, 'acme', %s, %s, 'app')"
        owner.execute(run, (day + timedelta(hours=14), t, '["CSP"]'))
        owner.execute("SELECT devdiag.archive_run_days(100, %s)", (day + timedelta(days=1),))
        owner.commit()
        # a late run of the archived day, earlier in it: the episode now begins there
        owner.execute(run, (day + timedelta(hours=8), t, '["CSP"]'))
        owner.execute("CALL devdiag.refresh_rollups()")
        assert owner.execute("SELECT started_at FROM devdiag.v_problem_episodes WHERE target_hash = %s",
                             (t,)).fetchall() == [(day + timedelta(hours=8),)]
        assert owner.execute("SELECT devdiag.purge_archive_day(%s)", (day.date(),)).fetchone()[0] == 1
        owner.execute("SELECT devdiag.archive_run_days(100, %s)", (day + timedelta(days=1),))
        assert owner.execute("SELECT devdiag.purge_archive_day(%s)", (day.date(),)).fetchone()[0] == 1
        owner.commit()
        assert owner.execute("SELECT count(*), count(DISTINCT day) FROM devdiag_rollup.rollup_purged_day").fetchone() == (2, 1)
        assert mismatches(owner) == {}
        assert owner.execute("SELECT count(*) FROM devdiag.v_problem_episodes WHERE target_hash = %s",
                             (t,)).fetchone()[0] == 0
        assert owner.execute("SELECT count(*) FROM devdiag_rollup.rollup_purged_day").fetchone()[0] == 0


@pytest.mark.parametrize("read", ["probe", "scan"])
def test_a_refresh_over_more_targets_than_one_chunk_is_exact(pg, fresh_db, read):
    """The episode replay takes targets a few thousand at a time: episodes of targets on either side of a chunk's
    edge, and of a tenant split across two chunks, are as the raw runs say."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("SELECT set_config('devdiag.replay_read', %s, false)", (read,))
        # 2 tenants x 2600 targets: each target reports a problem, then clears it, then reports it again
        conn.execute(
            """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
               SELECT %s - make_interval(hours => 3 - s), t.tenant, encode(sha256((t.tenant || g)::bytea), 'hex'),
                      CASE WHEN s = 1 THEN '[]'::jsonb ELSE '["CSP_MISSING"]'::jsonb END, 'full'
               FROM (VALUES ('acme'), ('globex')) AS t (tenant), generate_series(1, 2600) AS g,
                    generate_series(0, 2) AS s""", (NOW,))
        conn.commit()
        conn.execute("CALL devdiag.refresh_rollups()")
        conn.commit()
        assert conn.execute("SELECT count(*), count(*) FILTER (WHERE episode_no = 2) FROM devdiag.v_problem_episodes"
                            ).fetchone() == (10400, 5200)
        assert mismatches(conn, refresh=False) == {}


@pytest.mark.parametrize("replay_read", ["probe", "scan"])
@pytest.mark.parametrize("call", ["CALL devdiag.refresh_rollups('acme')",
                                  "CALL devdiag.refresh_rollups(p_tenants => '{hooli,acme}')"])
def test_a_refresh_of_one_tenant_between_a_purge_and_the_next_full_refresh_is_exact(pg, fresh_db, replay_read,
                                                                                      call):
    """An episode begun on a day purged since the last refresh, and a late run after that day that clears it: a
    refresh of the tenant alone takes the tenant's purged runs out first (it never replays from runs that are
    gone), needing to see only its own rows of the day kept aside, and the next all-tenant refresh takes out the
    other tenants' runs, and none twice."""
    day = (datetime.now(timezone.utc) - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    t, other = target("purged-start"), target("purged-other")
    with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
        su.execute(sql.SQL("ALTER DATABASE {} SET track_functions = 'pl'").format(sql.Identifier(fresh_db)))
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        owner.execute("SELECT set_config('devdiag.replay_read', %s, false)", (replay_read,))
        owner.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) VALUES
                         (%(d0)s, 'acme', %(t)s, '["CSP"]', 'embed'), (%(d2)s, 'acme', %(t)s, '["CSP"]', 'embed'),
                         (%(d0)s, 'globex', %(o)s, '["XFO"]', 'full'), (%(d2)s, 'globex', %(o)s, '[]', 'full')""",
                      {"d0": day + timedelta(hours=1), "d2": day + timedelta(days=2, hours=1), "t": t, "o": other})
        owner.execute("CALL devdiag.refresh_rollups()")
        owner.execute("SELECT devdiag.archive_run_days(100, %s)", (day + timedelta(days=1),))
        assert owner.execute("SELECT devdiag.purge_archive_day(%s)", (day.date(),)).fetchone()[0] == 2
        owner.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                         VALUES (%s, 'acme', %s, '[]', 'embed')""", (day + timedelta(days=1, hours=1), t))
        # the day kept aside shows the refresh of acme only acme's rows (as a distributed table's shard would)
        part = owner.execute("SELECT part::text FROM devdiag_rollup.rollup_purged_day").fetchone()[0]
        for stmt in ("ALTER TABLE {} ENABLE ROW LEVEL SECURITY", "ALTER TABLE {} FORCE ROW LEVEL SECURITY",
                     "CREATE POLICY every_row ON {} USING (true)",
                     "CREATE POLICY only_acme ON {} AS RESTRICTIVE "
                     "USING (tenant = 'acme') WITH CHECK (tenant = 'acme')"):
            owner.execute(sql.SQL(stmt).format(sql.SQL(part)))
        owner.commit()
        assert owner.execute(call).fetchone() == (1,)  # acme alone, or acme in a set
        # the day kept aside is read for the refresh's tenants at once, not once per tenant
        assert owner.execute("SELECT calls FROM pg_stat_xact_user_functions "
                             "WHERE funcname = 'rollup_forget_runs'").fetchall() == [(1,)]
        owner.commit()
        for stmt in ("DROP POLICY only_acme ON {}", "DROP POLICY every_row ON {}",
                     "ALTER TABLE {} NO FORCE ROW LEVEL SECURITY", "ALTER TABLE {} DISABLE ROW LEVEL SECURITY"):
            owner.execute(sql.SQL(stmt).format(sql.SQL(part)))
        left = owner.execute(sql.SQL("SELECT count(*), min(tenant) FROM {}").format(sql.SQL(part))).fetchone()
        assert left == (1, "globex")
        owner.commit()
        assert owner.execute("SELECT count(*), min(started_at) FROM devdiag.v_problem_episodes WHERE target_hash = %s",
                             (t,)).fetchone() == (1, day + timedelta(days=2, hours=1))
        # globex's purged runs wait for the all-tenant refresh, which takes them (and only them) out
        assert owner.execute("SELECT count(*) FROM devdiag.v_problem_episodes WHERE target_hash = %s",
                             (other,)).fetchone() == (1,)
        owner.execute("CALL devdiag.refresh_rollups()")
        owner.commit()
        assert mismatches(owner, refresh=False) == {}
        assert owner.execute("SELECT count(*) FROM devdiag_rollup.rollup_purged_day").fetchone() == (0,)


def refresh_calls(pg, dbname: str) -> int:
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as su:
        return int(su.execute("""SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions
                                 WHERE schemaname = 'devdiag' AND funcname = 'refresh_rollups'""").fetchone()[0])


@pytest.mark.parametrize("workers", [1, 2])
def test_make_refresh_folds_on_several_connections_when_asked_and_stays_exact(pg, fresh_db, workers):
    """`make refresh REFRESH_ARGS="--workers 2"`: the runs to fold counted per tenant, two sets of tenants
    folded at once, then the all-tenant refresh; the output counts every run once and the rollups are exact."""
    import subprocess

    from tests.commands import command

    with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
        su.execute(sql.SQL("ALTER DATABASE {} SET track_functions = 'pl'").format(sql.Identifier(fresh_db)))
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        for k, tenant in enumerate(["acme", "globex", "initech"]):
            insert(conn, tenant, 30 + 10 * k, hours_ago=1 + k, problems='["CSP_MISSING", "XFO"]' if k else "[]")
        assert conn.execute("SELECT tenant, runs FROM devdiag.rollup_pending_runs()").fetchall() == [
            ("initech", 50), ("globex", 40), ("acme", 30)]
    before = refresh_calls(pg, fresh_db)
    res = subprocess.run([*command("retention"), "--refresh", "--workers", str(workers), "--dsn", pg.dsn(fresh_db)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "refresh: folded 120 run(s) into the rollups"
    # one all-tenant refresh, after one refresh per set of tenants when there are two workers
    assert refresh_calls(pg, fresh_db) - before == (1 if workers == 1 else 3)
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM devdiag.rollup_pending_runs()").fetchone() == (0,)
        assert mismatches(conn, refresh=False) == {}


def test_make_refresh_refuses_fewer_than_one_worker(pg, fresh_db):
    import subprocess

    from tests.commands import command, error_lines

    res = subprocess.run([*command("retention"), "--refresh", "--workers", "0", "--dsn", pg.dsn(fresh_db)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 2 and error_lines(res.stderr) == ["error: --workers must be at least 1"]
