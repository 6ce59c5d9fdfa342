"""The store is DevDiag's live file: the sync reads a consistent snapshot while
DevDiag writes, waits (bounded) for a writer that locks readers out, and two
syncs of one source never run at once."""

from __future__ import annotations

import sqlite3
import time

import psycopg
import pytest

from tests.commands import error_lines
from tests.sync.sync_support import query, run_row, start_sync


def test_sync_reads_a_snapshot_while_a_writer_holds_a_write_transaction(store, warehouse, sync):
    """A DevDiag write transaction in progress (WAL mode) neither blocks the sync nor leaks into it."""
    s = store()
    s.add_runs([run_row(i) for i in range(20)])
    writer = sqlite3.connect(s.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    for i in range(20, 25):
        writer.execute("INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", run_row(i))
    writer.execute("UPDATE fix_outcome SET support = support + 1")
    try:
        started = time.monotonic()
        res = sync(s, warehouse, "--quiet", "--busy-timeout", "5")
        assert time.monotonic() - started < 5, "the sync waited for the writer"
        assert "20 landed" in res.stdout
        assert query(warehouse, "SELECT max(source_run_id) FROM devdiag.diag_run") == [(20,)]
    finally:
        writer.execute("COMMIT")
        writer.close()
    res = sync(s, warehouse, "--quiet")
    assert "5 landed" in res.stdout
    assert query(warehouse, "SELECT count(*), count(DISTINCT source_run_id) FROM devdiag.diag_run") == [(25, 25)]


def test_runs_appended_during_a_sync_land_exactly_once_over_two_syncs(store, warehouse, tmp_path):
    """DevDiag appending while a sync runs: the sync takes its snapshot, the next one the rest, nothing twice."""
    s = store()
    s.add_runs([run_row(i) for i in range(3000)])
    proc = start_sync(s.path, warehouse, "--quiet", "--batch-rows", "100", cwd=tmp_path)
    writer = sqlite3.connect(s.path, isolation_level=None)
    appended = 0
    while proc.poll() is None and appended < 2000:
        writer.execute("BEGIN IMMEDIATE")
        for _ in range(20):
            writer.execute("INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", run_row(3000 + appended))
            appended += 1
        writer.execute("COMMIT")
    writer.close()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    from tests.sync.sync_support import run_sync

    res = run_sync(s.path, warehouse, "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert query(warehouse, "SELECT count(*), count(DISTINCT source_run_id), max(source_run_id) "
                            "FROM devdiag.diag_run") == [(3000 + appended,) * 3]


def test_sync_waits_for_a_writer_that_locks_readers_out(store, warehouse, tmp_path):
    """In rollback-journal mode a committing writer holds an exclusive lock: the sync waits, then syncs."""
    s = store(journal_mode="delete")
    s.add_runs([run_row(i) for i in range(10)])
    writer = sqlite3.connect(s.path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", run_row(10))
    proc = start_sync(s.path, warehouse, "--quiet", "--busy-timeout", "30", cwd=tmp_path)
    time.sleep(1.5)
    assert proc.poll() is None, "the sync did not wait for the exclusive lock"
    writer.execute("COMMIT")
    writer.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "11 landed" in out


def test_sync_gives_up_on_a_lock_held_past_the_busy_timeout(store, warehouse, sync):
    """A store locked for longer than --busy-timeout: one line, exit 3 (retry later), nothing written."""
    s = store(journal_mode="delete")
    s.add_runs([run_row(i) for i in range(3)])
    writer = sqlite3.connect(s.path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        res = sync(s, warehouse, "--busy-timeout", "0.5", rc=3)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert len(error_lines(res.stderr)) == 1 and "locked" in res.stderr
    assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run") == [(0,)]


def test_a_second_sync_of_the_same_source_exits_busy_without_writing(store, warehouse, sync):
    """While one sync of a source holds its lock, another exits 3 at once and writes nothing."""
    s = store()
    s.add_runs([run_row(i) for i in range(5)])
    sync(s, warehouse, "--source", "shared", "--quiet")
    s.add_runs([run_row(i) for i in range(5, 8)])
    (source_id,), = query(warehouse, "SELECT id FROM devdiag.sync_source WHERE name = 'shared'")
    with psycopg.connect(warehouse) as holder:
        holder.execute("SELECT 1 FROM devdiag.sync_run_lock WHERE source_id = %s FOR UPDATE", (source_id,))
        res = sync(s, warehouse, "--source", "shared", rc=3)
        assert "another sync of this source is running" in res.stderr
        assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run") == [(5,)]
        # Another source is not blocked by it.
        sync(s, warehouse, "--source", "other", "--quiet")
    res = sync(s, warehouse, "--source", "shared", "--quiet")
    assert "3 landed" in res.stdout


def test_concurrent_syncs_of_one_source_land_each_run_once(store, warehouse, tmp_path):
    """Started together, several syncs of one store either sync or step aside: every run lands once."""
    s = store()
    s.add_runs([run_row(i) for i in range(2000)])
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 4, 0.5)
    procs = [start_sync(s.path, warehouse, "--quiet", "--batch-rows", "200", cwd=tmp_path) for _ in range(3)]
    codes = [p.wait(timeout=120) for p in procs]
    assert set(codes) <= {0, 3} and 0 in codes, codes
    for p in procs:
        p.communicate()
    assert query(warehouse, "SELECT count(*), count(DISTINCT source_run_id) FROM devdiag.diag_run") == [(2000, 2000)]
    assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(4,)]


DEADLOCK_SETUP = """
    CREATE SEQUENCE public.sync_deadlock_seq;
    GRANT USAGE ON SEQUENCE public.sync_deadlock_seq TO PUBLIC;
    CREATE FUNCTION public.sync_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- nextval is not rolled back: the first {n} statements fail as a deadlock would.
        IF nextval('public.sync_deadlock_seq') <= {n} THEN
            RAISE EXCEPTION 'simulated deadlock' USING ERRCODE = 'deadlock_detected';
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER sync_deadlock AFTER INSERT ON devdiag.{table} FOR EACH STATEMENT
        EXECUTE FUNCTION public.sync_deadlock();
"""


def test_a_batch_rolled_back_by_a_deadlock_is_retried_exactly(store, pg, warehouse, sync):
    """A deadlock with a concurrent writer rolls a batch back; the sync runs it again and lands it once."""
    dbname = warehouse.split("/")[3].split("?")[0]
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        conn.execute(DEADLOCK_SETUP.format(n=2, table="diag_run"))
    s = store()
    s.add_runs([run_row(i) for i in range(30)])
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 3, 0.5)
    res = sync(s, warehouse, "--quiet", "--batch-rows", "10")
    assert "runs 30 read, 30 landed" in res.stdout
    assert query(warehouse, "SELECT count(*), count(DISTINCT source_run_id) FROM devdiag.diag_run") == [(30, 30)]
    assert query(warehouse, "SELECT runs_synced, run_watermark FROM devdiag.sync_source") == [(30, 30)]
    assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(3,)]


def test_a_warehouse_that_keeps_deadlocking_makes_the_sync_exit_busy(store, pg, warehouse, sync):
    """Past its retries the sync stops with status 3 (try later), keeping what it committed."""
    dbname = warehouse.split("/")[3].split("?")[0]
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        conn.execute(DEADLOCK_SETUP.format(n=1000, table="fix_outcome"))
    s = store()
    s.add_runs([run_row(i) for i in range(5)])
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 3, 0.5)
    res = sync(s, warehouse, rc=3)
    assert "kept rolling the sync back" in res.stderr and len(error_lines(res.stderr)) == 1
    assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run") == [(5,)]
    assert query(warehouse, "SELECT count(*) FROM devdiag.fix_outcome") == [(0,)]


def test_a_hostile_login_cannot_keep_a_source_from_syncing(store, pg, warehouse, sync):
    """Any login may take advisory locks, so the sync takes none: with every advisory key a hostile login
    could guess held, the sync runs; the row lock it uses instead is refused to that login."""
    dbname = warehouse.split("/")[3].split("?")[0]
    s = store()
    s.add_runs([run_row(i) for i in range(5)])
    sync(s, warehouse, "--source", "shared", "--quiet")
    s.add_runs([run_row(i) for i in range(5, 8)])
    (source_id,), = query(warehouse, "SELECT id FROM devdiag.sync_source WHERE name = 'shared'")
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as su:
        su.execute("DROP ROLE IF EXISTS hostile_t")
        su.execute("CREATE ROLE hostile_t LOGIN IN ROLE devdiag_writer")
    try:
        with psycopg.connect(pg.dsn(dbname, "hostile_t"), autocommit=True) as hostile:
            # advisory keys naming this source, and a few more
            hostile.execute("SELECT pg_advisory_lock(72364004, %s)", (source_id,))
            hostile.execute("SELECT pg_advisory_lock(k) FROM generate_series(7236111000, 7236111002) AS k")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with hostile.transaction():
                    hostile.execute("SELECT 1 FROM devdiag.sync_run_lock FOR UPDATE")
            res = sync(s, warehouse, "--source", "shared", "--quiet")
            assert "3 landed" in res.stdout
    finally:
        with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as su:
            su.execute("DROP ROLE hostile_t")
