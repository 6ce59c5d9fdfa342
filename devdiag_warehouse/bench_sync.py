"""Measure the SQLite-to-warehouse sync end to end on a generated store.

    devdiag-bench-sync --runs 2000000            # throwaway PostgreSQL, fresh warehouse
    devdiag-bench-sync --runs 200000 --keep      # keep the store file for another run

Generates a DevDiag learning store the way DevDiag fills one (WAL mode, runs
appended in time order, 20 tenants of Zipf-like sizes, a few hundred targets
per large tenant, 2% raw URL targets to hash, 10% evidence with keys to drop,
one bad row in 100,000, learned fix outcomes), starts a throwaway
PostgreSQL (the machine's, or DEVDIAG_PG_MAJOR=embedded), migrates it, then
runs the real CLI (``devdiag-sync --quiet``) twice: the initial sync
of every run, then an incremental one after DevDiag appended 1% more runs and
credited 10% of the fixes again.

Reported per phase: runs/s from process start to exit (SQLite read to
committed rows), CPU seconds of the sync process and of PostgreSQL (all its
processes), and the load average: the machine is shared, so CPU per run is
the figure that does not depend on what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from hashlib import sha256
from pathlib import Path

from .localdb import (
    LocalCluster,
    dedicated_memory_settings,
    find_bindir,
    free_port,
    server_version,
)

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS diag_run(id INTEGER PRIMARY KEY, ts INTEGER, tenant TEXT, target_hash TEXT,
    env_fp TEXT, problems TEXT, evidence TEXT, preset TEXT);
CREATE TABLE IF NOT EXISTS fix_outcome(id INTEGER PRIMARY KEY, ts INTEGER, tenant TEXT, problem_code TEXT,
    fix_code TEXT, confidence REAL, support INTEGER, env_fp TEXT, notes TEXT,
    UNIQUE(tenant, problem_code, fix_code, env_fp));
"""
PROBLEMS = ["CSP_FRAME_ANCESTORS", "XFO_DENY", "OVERLAY_BLOCKING", "FRAMEWORK_OUTDATED", "MIXED_CONTENT",
            "COOKIE_SAMESITE", "CORS_MISSING", "ROUTE_404", "PORTAL_ROOT_MISSING", "HYDRATION_MISMATCH"]
FIXES = ["primary", "fallback", "workaround"]
PRESETS = ["chat", "embed", "app", "full", None]
NOW = 1_760_000_000


class Generator:
    """Deterministic DevDiag-like history, appended in time order."""

    def __init__(self, runs: int, tenants: int, days: int, seed: int):
        self.rng = random.Random(seed)
        rng = self.rng
        self.runs, self.days = runs, days
        weights = [1 / (i + 1) for i in range(tenants)]
        self.tenants = [f"tenant-{i:02d}" for i in range(tenants)]
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.targets = {}
        self.envs = {}
        for i, t in enumerate(self.tenants):
            n = max(4, int(runs * weights[i] / total / 300))
            self.targets[t] = [
                f"https://{t}.example.com/app/{k}" if rng.random() < 0.02 else sha256(f"{t}/{k}".encode()).hexdigest()
                for k in range(n)]
            self.envs[t] = [sha256(f"{t}-env-{k}".encode()).hexdigest()[:16] for k in range(max(2, n // 20))]
        combos = [[]] * 12 + [[p] for p in PROBLEMS] + [[a, b] for a in PROBLEMS[:4] for b in PROBLEMS[4:7]]
        self.problem_texts = [json.dumps(c) for c in combos]
        frameworks = ["react@18.3", "react@19.1", "vue@3.5", "svelte@5.2", "next@15.1"]
        servers = ["nginx", "cloudflare", "envoy", "caddy"]
        evidence = []
        for f in frameworks:
            for s in servers:
                evidence.append({"framework": f, "server": s})
                evidence.append({"framework": f, "server": s, "csp": "frame-ancestors 'self'", "xfo": "DENY"})
        dropped = [dict(e, headers={"x-request-id": "abc"}, url="https://example.com/") for e in evidence[:10]]
        self.evidence_texts = [json.dumps(e) for e in evidence] * 9 + [json.dumps(e) for e in dropped] * 2

    def run_rows(self, start_index: int, count: int, t0: int, t1: int):
        rng = self.rng
        tenants = rng.choices(self.tenants, cum_weights=self.cum, k=count)
        span = max(1, t1 - t0)
        for n, tenant in enumerate(tenants):
            i = start_index + n
            ts = t0 + span * n // count
            if i % 100_000 == 99_999:
                yield (ts, tenant, "0" * 64, None, "[broken", "{}", "app")  # a bad row, as real stores have
                continue
            yield (ts, tenant, rng.choice(self.targets[tenant]), rng.choice(self.envs[tenant]),
                   rng.choice(self.problem_texts), rng.choice(self.evidence_texts), rng.choice(PRESETS))

    def fix_rows(self, ts: int):
        rng = self.rng
        for t in self.tenants:
            for p in PROBLEMS:
                for f in FIXES:
                    for env in self.envs[t][:8]:
                        if rng.random() < 0.6:
                            yield (ts, t, p, f"{p.lower()}.{f}", round(rng.random(), 3), rng.randint(1, 40), env)


def write_store(path: Path, gen: Generator) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(SQLITE_SCHEMA)
    t0 = NOW - gen.days * 86_400
    chunk = 100_000
    for start in range(0, gen.runs, chunk):
        n = min(chunk, gen.runs - start)
        a = t0 + (NOW - 86_400 - t0) * start // gen.runs
        b = t0 + (NOW - 86_400 - t0) * (start + n) // gen.runs
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", gen.run_rows(start, n, a, b))
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", gen.fix_rows(t0))
    conn.execute("COMMIT")
    conn.close()


def append_activity(path: Path, gen: Generator, runs: int) -> None:
    """What DevDiag does between two syncs: new runs, and fixes credited again."""
    conn = sqlite3.connect(path, isolation_level=None)
    # After the store's newest run, as DevDiag appends them (a --store made by
    # another generator ends elsewhere than NOW; runs before its end would be
    # late runs, a different and rarer case).
    newest = conn.execute("SELECT max(ts) FROM diag_run").fetchone()[0] or NOW - 86_400
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", gen.run_rows(gen.runs, runs, newest + 1, newest + 86_400))
    conn.execute("UPDATE fix_outcome SET support = support + 1, confidence = min(1.0, confidence + 0.01) "
                 "WHERE id % 10 = 0")
    conn.execute("COMMIT")
    conn.close()


def proc_cpu(pid: int) -> float:
    """utime + stime (+ reaped children) of a process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


def cluster_cpu(postmaster: int) -> float:
    """CPU seconds of the whole PostgreSQL cluster: the postmaster, its live and its exited children."""
    total = proc_cpu(postmaster)
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += proc_cpu(int(d.name))
    return total


def postmaster_pid(datadir: Path) -> int:
    return int((datadir / "postmaster.pid").read_text().split()[0])


def timed_sync(store: Path, dsn: str, pm: int, batch_rows: int, source: str) -> dict:
    env = dict(os.environ, SQLITE_PATH=str(store), PG_DSN=dsn, SYNC_SOURCE=source,
               DEVDIAG_CONFIG=str(Path(tempfile.gettempdir()) / "no-devdiag.yaml"))
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_pg = cluster_cpu(pm)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "devdiag_warehouse.sync", "--quiet",
                             "--no-progress", "--batch-rows", str(batch_rows)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while proc.poll() is None:  # the sync's own peak resident set (VmHWM), read until it exits
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    wall = time.monotonic() - started
    res = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg_cpu = cluster_cpu(pm) - before_pg
    if res.returncode not in (0, 1):
        raise SystemExit(f"sync failed ({res.returncode}): {res.stderr.strip()}")
    return {
        "summary": res.stdout.strip(), "wall": wall,
        "sync_cpu": (after_children.ru_utime - before_children.ru_utime
                     + after_children.ru_stime - before_children.ru_stime),
        "pg_cpu": pg_cpu, "load": (load_before, os.getloadavg()[0]),
        "max_rss_mb": peak_kb / 1024,
    }


def runs_read(summary: str) -> int:
    return int(summary.split("runs ", 1)[1].split(" read", 1)[0])


def report(phase: str, r: dict) -> str:
    n = runs_read(r["summary"])
    rate = n / r["wall"] if r["wall"] else 0
    per_run = lambda s: 1e6 * s / n if n else 0.0  # noqa: E731
    return (f"| {phase} | {n:,} | {r['wall']:.1f} | {rate:,.0f} | {r['sync_cpu']:.1f} ({per_run(r['sync_cpu']):.1f} µs/run) "
            f"| {r['pg_cpu']:.1f} ({per_run(r['pg_cpu']):.1f} µs/run) | {r['max_rss_mb']:.0f} MB "
            f"| {r['load'][0]:.1f} → {r['load'][1]:.1f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--tenants", type=int, default=20)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--batch-rows", type=int, default=50_000)
    ap.add_argument("--store", help="SQLite file to use or create (default: a temporary file)")
    ap.add_argument("--keep", action="store_true", help="keep the generated store")
    ap.add_argument("--out", help="also write the result table to this file")
    args = ap.parse_args(argv)

    # A terminated benchmark still stops and removes its throwaway server (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="devdiag-bench-sync-"))
    os.chmod(workdir, 0o755)
    store = Path(args.store) if args.store else workdir / "devdiag.db"
    gen = Generator(args.runs, args.tenants, args.days, args.seed)
    if not store.exists():
        t = time.monotonic()
        write_store(store, gen)
        print(f"generated {args.runs:,} runs into {store} in {time.monotonic() - t:.1f} s", file=sys.stderr)

    bindir = find_bindir()
    base = LocalCluster.base_dir(f"bench-sync-{os.getpid()}")
    cluster = LocalCluster(base / "data", bindir, free_port(), base)
    cluster.settings = dedicated_memory_settings()
    cluster.cron_database = "postgres"
    try:
        dsn = cluster.ensure_running()
        from .migrate import Migrator

        with open(os.devnull, "w") as quiet, Migrator(dsn, out=quiet) as m:
            m.apply()
        pm = postmaster_pid(cluster.datadir)
        first = timed_sync(store, dsn, pm, args.batch_rows, "bench")
        gen.rng = random.Random(args.seed + 1)  # the appended activity does not depend on how the store was made
        append_activity(store, gen, max(1, args.runs // 100))
        second = timed_sync(store, dsn, pm, args.batch_rows, "bench")
    finally:
        cluster.destroy()
        if not args.keep and not args.store:
            store.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(str(store) + suffix).unlink(missing_ok=True)
        if not any(workdir.iterdir()):
            workdir.rmdir()

    lines = [
        f"sync benchmark: {args.runs:,} runs, {args.tenants} tenants, batch {args.batch_rows:,} rows; "
        f"{server_version(bindir)}; {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        "| phase | runs | wall s | runs/s | sync process CPU s | PostgreSQL CPU s | sync max RSS | load avg (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        report("initial sync", first),
        report("incremental (+1% runs, 10% fixes credited)", second),
        "",
        f"initial:     {first['summary']}",
        f"incremental: {second['summary']}",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
