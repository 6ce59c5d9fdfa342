"""kill -9 at any point, then run again: the warehouse converges to exactly the
state of one clean run (no run twice, none lost, support not re-added, the
same rejects and watermark)."""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest

from tests.sync.sync_support import (
    T0,
    digest,
    full_state,
    run_row,
    run_sync,
    start_sync,
    warehouse_state,
)

BATCH = "120"


def build_store(s) -> None:
    """Runs of several tenants with bad rows between them, and fix outcomes (some NULL env_fp twins)."""
    rng = random.Random(4)
    tenants = ["acme", "globex", "initech", "O'Brien; --"]
    rows = []
    for i in range(4000):
        problems = rng.sample(["CSP", "XFO", "CORS", "ROUTE_404"], rng.randint(0, 2))
        evidence = {"framework": "react@18.3", "cookie": f"sid={i}"} if i % 5 == 0 else {"server": "nginx"}
        rows.append(run_row(i, tenant=rng.choice(tenants), problems=problems, evidence=evidence,
                            preset=rng.choice(["chat", "embed", "app", "full", None]),
                            target=f"https://t{i % 50}.example.com/" if i % 7 == 0 else None))
    s.add_runs(rows)
    for i in range(0, 4000, 397):  # bad rows spread over many batches
        s.add_raw_run(ts=T0 + i, tenant="acme", target_hash=digest(str(i)), problems="[broken",
                      evidence="{}", preset="app")
    s.add_raw_run(ts=T0, tenant="acme", target_hash=digest("s"), problems='["\\ud800"]', evidence="{}")
    for i in range(1500):
        s.credit(rng.choice(tenants), f"P{i % 40}", f"F{i % 3}", f"env-{i % 9}", rng.randint(1, 3),
                 round(rng.random(), 3), ts=T0 + i)
    for i in range(30):
        s.add_raw_fix(ts=T0, tenant="acme", problem_code="PN", fix_code=f"F{i % 10}", confidence=0.5,
                      support=i, env_fp=None)
    s.add_raw_fix(ts=T0, tenant="acme", problem_code="BAD", fix_code="F", confidence=2.0, support=1, env_fp="e")


@pytest.mark.slow
def test_sync_killed_at_random_points_converges_to_one_clean_run(pg, store, tmp_path):
    """SIGKILL a sync at random moments (once or twice), re-run it: the warehouse equals a single clean sync."""
    s = store()
    build_store(s)
    clean_db = pg.clone()
    try:
        started = time.monotonic()
        res = run_sync(s.path, pg.dsn(clean_db), "--quiet", "--batch-rows", BATCH, cwd=tmp_path)
        clean_seconds = time.monotonic() - started
        assert res.returncode == 1, res.stderr  # the bad rows were rejected
        clean = warehouse_state(pg.dsn(clean_db))
        clean_tables = full_state(pg.dsn(clean_db))
    finally:
        pg.drop(clean_db)
    assert len(clean["runs"]) == 4000 and len(clean["rejects"]) == 13
    assert len(clean_tables) >= 6 and clean_tables["diag_run"]

    rng = random.Random(int(os.environ.get("SYNC_KILL_SEED", "20")))
    interrupted = 0
    # At least six trials; more (up to twelve) while fewer than two kills landed mid-sync, since on a
    # loaded machine a kill may come after the sync's last write.
    for trial in range(12):
        if trial >= 6 and interrupted >= 2:
            break
        db = pg.clone()
        try:
            dsn = pg.dsn(db)
            for _kill in range(1 + trial % 2):
                proc = start_sync(s.path, dsn, "--quiet", "--batch-rows", BATCH, cwd=tmp_path)
                time.sleep(rng.uniform(0.05, 0.8 * clean_seconds))
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                # killed before the end of its work: the runs or the rollups it folds are not all there yet
                if proc.returncode == -signal.SIGKILL and (
                        warehouse_state(dsn) != clean or full_state(dsn) != clean_tables):
                    interrupted += 1
            res = run_sync(s.path, dsn, "--quiet", "--batch-rows", BATCH, cwd=tmp_path)
            assert res.returncode in (0, 1), res.stderr
            got = warehouse_state(dsn)
            if got != clean:
                diff = {k: (len(clean[k]), len(got[k])) for k in clean if clean[k] != got[k]}
                pytest.fail(f"trial {trial}: state differs from one clean run: {json.dumps(diff)}")
            # Every other table too (the rollups, the archive, settings...).
            tables = full_state(dsn)
            differing = sorted(t for t in set(tables) | set(clean_tables) if tables.get(t) != clean_tables.get(t))
            assert differing == [], f"trial {trial}: tables differ from one clean run: {differing}"
            # And once more: converged means a further run changes nothing.
            res = run_sync(s.path, dsn, "--quiet", "--batch-rows", BATCH, cwd=tmp_path)
            assert res.returncode == 0 and warehouse_state(dsn) == clean
        finally:
            pg.drop(db)
    assert interrupted >= 2, "too few kills landed in the middle of a sync to prove anything"


def test_sync_killed_while_copying_fix_outcomes_converges(pg, store, tmp_path):
    """SIGKILL during the fix outcome phase (its COPY seen in pg_stat_activity): the re-run equals a clean run."""
    import psycopg

    s = store()
    s.add_runs([run_row(i) for i in range(50)])
    s.conn.execute("BEGIN")
    for i in range(40_000):
        s.conn.execute(
            "INSERT INTO fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (T0 + i, f"t{i % 5}", f"P{i % 97}", f"F{i}", 0.5, 1 + i % 4, "e"))
    s.conn.execute("COMMIT")
    clean_db, db = pg.clone(), pg.clone()
    try:
        assert run_sync(s.path, pg.dsn(clean_db), "--quiet", cwd=tmp_path).returncode == 0
        proc = start_sync(s.path, pg.dsn(db), "--quiet", cwd=tmp_path)
        seen = False
        with psycopg.connect(pg.dsn(db), autocommit=True) as watcher:
            while proc.poll() is None and not seen:
                seen = bool(watcher.execute(
                    """SELECT 1 FROM pg_stat_activity
                       WHERE application_name = 'devdiag-sync' AND query LIKE '%%sync_stage_fix%%'""").fetchone())
            proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert seen and proc.returncode == -signal.SIGKILL, "the kill did not land in the fix outcome phase"
        assert warehouse_state(pg.dsn(db))["fix_outcome"] == []  # the phase's transaction was rolled back
        assert run_sync(s.path, pg.dsn(db), "--quiet", cwd=tmp_path).returncode == 0
        assert warehouse_state(pg.dsn(db)) == warehouse_state(pg.dsn(clean_db))
        assert full_state(pg.dsn(db)) == full_state(pg.dsn(clean_db))
    finally:
        pg.drop(clean_db)
        pg.drop(db)
