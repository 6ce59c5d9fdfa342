"""Rollups stay exact when several sessions write the same tenant and targets at once."""

from __future__ import annotations

import hashlib
import random
import threading
from datetime import datetime, timedelta, timezone

import psycopg
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
