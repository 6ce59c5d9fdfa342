"""The sync streams: its memory is bounded by the batch size, not by the store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.sync.sync_support import T0, digest, run_row, start_sync


def peak_rss_kb(proc) -> int:
    """The process's peak resident set (VmHWM), polled until it exits."""
    peak = 0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.02)
    return peak


def fill(s, runs: int) -> None:
    """Runs with the same bad value every 500 runs, as a broken DevDiag would write them."""
    for start in range(0, runs, 500):
        s.add_runs([run_row(i, tenant=f"t{i % 7}", target=digest(f"target-{i % 500}"))
                    for i in range(start, start + 500)])
        s.add_raw_run(ts=T0 + start, tenant="t1", target_hash=digest("x"), problems="[broken", evidence="{}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to read the peak memory")
def test_peak_memory_does_not_grow_with_the_store(store, pg, tmp_path):
    """Syncing four times as many runs (with repeated bad rows) peaks at about the same memory."""
    peaks = {}
    for runs in (15_000, 60_000):
        s = store(f"s{runs}.db")
        fill(s, runs)
        db = pg.clone()
        try:
            proc = start_sync(s.path, pg.dsn(db), "--quiet", "--batch-rows", "1000", cwd=tmp_path)
            peaks[runs] = peak_rss_kb(proc)
            out, err = proc.communicate()
            assert proc.returncode == 1, err
            assert f"{runs} landed" in out
        finally:
            pg.drop(db)
    assert peaks[60_000] < peaks[15_000] + 8 * 1024, peaks
