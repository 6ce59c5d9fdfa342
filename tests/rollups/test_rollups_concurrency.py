"""Rollups stay exact when several sessions write the same tenant and targets at once."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.rollups.rollup_support import mismatches

CODES = ["CSP", "XFO", "CORS"]
PRESETS = ["chat", "embed", "full", None]


def writer(dsn: str, seed: int, errors: list) -> None:
    """Twenty small transactions of runs on three shared targets, some late, one archive move."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    targets = [hashlib.sha256(f"shared/{i}".encode()).hexdigest() for i in range(3)]
    try:
        with psycopg.connect(dsn) as conn:
            for i in range(20):
                rows = [(now - timedelta(hours=rng.uniform(0, 200)), "acme", rng.choice(targets),
                         rng.choice(["e1", "e2", None]), Jsonb([c for c in CODES if rng.random() < 0.4]),
                         rng.choice(PRESETS)) for _ in range(rng.randint(1, 8))]
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, preset) "
                        "VALUES (%s, %s, %s, %s, %s, %s)", rows)
                conn.commit()
                if i == 10:
                    # a day moves under an exclusive lock on diag_run: in its own transaction, as the job does
                    conn.execute("SELECT devdiag.archive_run_days(5, now() - interval '150 hours')")
                    conn.commit()
    except Exception as exc:  # noqa: BLE001 - collected for the assertion
        errors.append(exc)


def test_concurrent_writers_of_one_tenant_leave_every_view_equal_to_its_reference(pg, fresh_db):
    """Three sessions inserting late and current runs on the same targets, plus archive moves, commit cleanly."""
    dsn = pg.dsn(fresh_db)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=writer, args=(dsn, seed, errors)) for seed in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n\n".join(map(str, errors))
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0] > 0
        assert mismatches(conn) == {}
        assert conn.execute("SELECT count(*) FROM devdiag_rollup.rollup_ttr_episode").fetchone()[0] > 0


TENANTS = ["acme", "globex"]


def until_stopped(dsn: str, stop: threading.Event, errors: list, step, autocommit: bool = True) -> None:
    """step(conn) again and again until stop is set; its exception, if any, lands in errors."""
    try:
        with psycopg.connect(dsn, autocommit=autocommit) as conn:
            conn.execute("SET lock_timeout = '30s'")
            while not stop.is_set():
                step(conn)
    except Exception as exc:  # noqa: BLE001 - collected for the assertion
        errors.append(exc)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_owner_changes_retention_and_refreshes_side_by_side_stay_exact(pg, fresh_db, seed):
    """Two writers, the owner deleting and moving recent runs of one tenant at a time, archiving and purging days,
    and two sessions refreshing every tenant, one tenant or a set, all at once for a few seconds: nothing fails
    (a refresh reading the run partitions while retention drops one included), and every view then equals its
    reference."""
    dsn = pg.dsn(fresh_db)
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    targets = [(t, hashlib.sha256(f"side/{t}/{i}".encode()).hexdigest()) for t in TENANTS for i in range(3)]

    def write(conn):
        rows = [(now - timedelta(hours=rng.uniform(0, 200)), *rng.choice(targets),
                 Jsonb([c for c in CODES if rng.random() < 0.4]), rng.choice(PRESETS)) for _ in range(rng.randint(1, 6))]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) "
                            "VALUES (%s, %s, %s, %s, %s)", rows)
        conn.commit()

    def change(conn):
        # (one tenant per statement: see ROLLUPS.md on lock order)
        tenant, r = rng.choice(TENANTS), rng.random()
        if r < 0.4:
            conn.execute("DELETE FROM devdiag.diag_run WHERE tenant = %s AND id IN (SELECT id FROM devdiag.diag_run "
                         "WHERE tenant = %s ORDER BY id DESC LIMIT %s)", (tenant, tenant, rng.randint(1, 3)))
        elif r < 0.8:
            conn.execute("UPDATE devdiag.diag_run SET problems = %s, ts = ts - make_interval(mins => %s) "
                         "WHERE tenant = %s AND id IN (SELECT id FROM devdiag.diag_run WHERE tenant = %s "
                         "ORDER BY id DESC OFFSET %s LIMIT 1)",
                         (Jsonb([c for c in CODES if rng.random() < 0.4]), rng.randint(0, 90), tenant, tenant,
                          rng.randint(0, 5)))
        elif r < 0.9:
            conn.execute("SELECT devdiag.archive_run_days(2, now() - interval '150 hours')")
        else:
            conn.execute("SELECT devdiag.purge_archive_days(1, now() - interval '180 hours')")
        time.sleep(rng.uniform(0, 0.05))

    def refresh(conn):
        r = rng.random()
        if r < 0.5:
            conn.execute("CALL devdiag.refresh_rollups(p_lock_wait => '2 seconds')")
        elif r < 0.8:
            conn.execute("CALL devdiag.refresh_rollups(%s, '2 seconds')", (rng.choice(TENANTS),))
        else:
            conn.execute("CALL devdiag.refresh_rollups(p_tenants => %s, p_lock_wait => '2 seconds')", (TENANTS,))

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT devdiag.ensure_run_partitions(now() - interval '10 days', now())")
    stop, errors = threading.Event(), []
    threads = [threading.Thread(target=until_stopped, args=(dsn, stop, errors, step, autocommit))
               for step, autocommit in [(write, False), (write, False), (change, True), (refresh, True), (refresh, True)]]
    for t in threads:
        t.start()
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join(60)
    assert not errors, "\n\n".join(f"{type(e).__name__}: {e}" for e in errors)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0] > 0
        assert mismatches(conn) == {}
