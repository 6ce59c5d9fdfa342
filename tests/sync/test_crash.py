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
from sync_support import T0, digest, run_row, run_sync, start_sync, warehouse_state

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
    finally:
        pg.drop(clean_db)
    assert len(clean["runs"]) == 4000 and len(clean["rejects"]) == 13

    rng = random.Random(int(os.environ.get("SYNC_KILL_SEED", "20")))
    interrupted = 0
    for trial in range(6):
        db = pg.clone()
        try:
            dsn = pg.dsn(db)
            for _kill in range(1 + trial % 2):
                proc = start_sync(s.path, dsn, "--quiet", "--batch-rows", BATCH, cwd=tmp_path)
                time.sleep(rng.uniform(0.05, clean_seconds))
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                if proc.returncode == -signal.SIGKILL:
                    partial = warehouse_state(dsn)
                    if partial != clean:
                        interrupted += 1
            res = run_sync(s.path, dsn, "--quiet", "--batch-rows", BATCH, cwd=tmp_path)
            assert res.returncode in (0, 1), res.stderr
            got = warehouse_state(dsn)
            if got != clean:
                diff = {k: (len(clean[k]), len(got[k])) for k in clean if clean[k] != got[k]}
                pytest.fail(f"trial {trial}: state differs from one clean run: {json.dumps(diff)}")
            # And once more: converged means a further run changes nothing.
            res = run_sync(s.path, dsn, "--quiet", "--batch-rows", BATCH, cwd=tmp_path)
            assert res.returncode == 0 and warehouse_state(dsn) == clean
        finally:
            pg.drop(db)
    assert interrupted >= 2, "too few kills landed in the middle of a sync to prove anything"
