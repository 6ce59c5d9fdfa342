"""Deterministic, realistic DevDiag history for demos, tests and benchmarks.

Tenants have skewed sizes (Zipf-like), each owns targets probed from one to
three environments with a preferred preset; problems appear on a target, stay
for a few runs (sometimes across days without runs), get fixed and sometimes
come back; each clearance credits a fix, which becomes the learned fix
outcomes (support grows, confidence moves towards the observed success).

The same seed always gives the same rows.  Output: straight into the
warehouse with COPY (``--dsn``), or a DevDiag SQLite learning store
(``--sqlite``) to go through the real sync.

    sample_data.py --runs 20000 --tenants 6 --days 60 --sqlite demo.db
    sample_data.py --runs 20000 --dsn postgresql://...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

PROBLEMS = {
    "CSP_FRAME_ANCESTORS": ["csp.add_frame_ancestors", "csp.relax_frame_src"],
    "XFO_DENY": ["xfo.remove_header", "xfo.sameorigin_to_csp"],
    "OVERLAY_BLOCKING": ["overlay.zindex_fix", "overlay.pointer_events_none"],
    "FRAMEWORK_OUTDATED": ["framework.upgrade_minor", "framework.upgrade_major"],
    "MIXED_CONTENT": ["https.upgrade_insecure_requests"],
    "COOKIE_SAMESITE": ["cookie.samesite_none_secure", "cookie.partitioned"],
    "CORS_MISSING": ["cors.allow_origin", "cors.proxy"],
    "ROUTE_404": ["routes.add_fallback", "routes.fix_basepath"],
    "PORTAL_ROOT_MISSING": ["portal.add_root"],
    "HYDRATION_MISMATCH": ["ssr.stable_ids", "ssr.disable_for_widget", "ssr.date_locale"],
}
PROBLEM_CODES = list(PROBLEMS)
# How likely each problem is to appear, and to be cleared, per run.
APPEAR = [0.030, 0.020, 0.015, 0.010, 0.008, 0.012, 0.010, 0.006, 0.004, 0.009]
CLEAR = [0.35, 0.45, 0.30, 0.15, 0.60, 0.40, 0.50, 0.55, 0.70, 0.25]
PRESETS = ["chat", "embed", "app", "full"]
FRAMEWORKS = ["react@18.3", "react@19.1", "vue@3.5", "svelte@5.2", "angular@19", "next@15.1"]
SERVERS = ["nginx", "cloudflare", "envoy", "apache", "caddy"]
TENANT_NAMES = [
    "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell",
    "cyberdyne", "soylent", "massive", "aperture", "black-mesa", "oscorp", "vandelay",
    "kramerica", "monarch", "gringotts", "nakatomi",
]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class FixState:
    first_ts: int
    last_ts: int
    support: int = 0
    confidence: float = 0.5


@dataclass
class Generated:
    fixes: dict = field(default_factory=dict)  # (tenant, problem, fix, env) -> FixState


def tenant_sizes(runs: int, tenants: int) -> list[tuple[str, int]]:
    """Zipf-like split: the first tenant is about ten times the tenth."""
    names = [TENANT_NAMES[i] if i < len(TENANT_NAMES) else f"tenant-{i:03d}" for i in range(tenants)]
    weights = [1 / (i + 1) ** 1.0 for i in range(tenants)]
    total = sum(weights)
    sizes = [max(1, int(runs * w / total)) for w in weights]
    sizes[0] += runs - sum(sizes)
    return list(zip(names, sizes))


def generate(runs: int = 20_000, tenants: int = 6, days: int = 60, seed: int = 42,
             now: int | None = None, out: Generated | None = None) -> Iterator[tuple]:
    """Yield runs ``(ts_epoch, tenant, target_hash, env_fp, problems_json, evidence_json, preset)``.

    Runs come target by target in time order; ``out.fixes`` is filled as a side
    effect with the learned fix outcomes.
    """
    rng = random.Random(seed)
    now = int(now if now is not None else time.time())
    start = now - days * 86_400
    out = out if out is not None else Generated()
    for tenant, n in tenant_sizes(runs, tenants):
        n_targets = max(2, n // 150)
        remaining = n
        for t in range(n_targets):
            k = remaining if t == n_targets - 1 else max(1, min(remaining, int(rng.expovariate(1 / (n / n_targets)))))
            remaining -= k
            if k <= 0:
                continue
            target = sha256(f"https://{tenant}.example.com/app/{t}")
            envs = [sha256(f"{tenant}-env-{t}-{e}")[:16] for e in range(rng.randint(1, 3))]
            preferred = rng.choice(PRESETS)
            framework = rng.choice(FRAMEWORKS)
            server = rng.choice(SERVERS)
            # Runs of a target cluster in active days: gaps without runs are normal.
            stamps = sorted(start + int(rng.random() ** 0.8 * (now - start)) for _ in range(k))
            active: dict[str, str] = {}  # problem -> preset of the run that reported it
            for ts in stamps:
                preset = preferred if rng.random() < 0.8 else rng.choice(PRESETS + [None])
                env = rng.choice(envs)
                for i, code in enumerate(PROBLEM_CODES):
                    if code in active:
                        if (preset == "full" or preset == active[code]) and rng.random() < CLEAR[i]:
                            del active[code]
                            fix = rng.choices(PROBLEMS[code], weights=[3, 2, 1][: len(PROBLEMS[code])])[0]
                            key = (tenant, code, fix, env)
                            st = out.fixes.get(key)
                            if st is None:
                                st = out.fixes[key] = FixState(first_ts=ts, last_ts=ts)
                            st.support += 1
                            st.last_ts = ts
                            st.confidence = round(0.7 * st.confidence + 0.3 * (0.6 + 0.4 * rng.random()), 4)
                    elif rng.random() < APPEAR[i]:
                        active[code] = preset
                reported = [c for c in active if preset == "full" or active[c] == preset or rng.random() < 0.3]
                if reported and rng.random() < 0.02:
                    reported.append(reported[0])  # DevDiag sometimes lists a code twice
                evidence = {"framework": framework, "server": server}
                if "CSP_FRAME_ANCESTORS" in reported:
                    evidence["csp"] = "frame-ancestors 'self'"
                if "XFO_DENY" in reported:
                    evidence["xfo"] = "DENY"
                yield (ts, tenant, target, env, json.dumps(reported), json.dumps(evidence), preset)


def fix_rows(gen: Generated) -> list[tuple]:
    """``(first_ts, last_ts, tenant, problem, fix, confidence, support, env_fp, notes)``."""
    rows = []
    for (tenant, problem, fix, env), st in sorted(gen.fixes.items()):
        rows.append((st.first_ts, st.last_ts, tenant, problem, fix, min(1.0, st.confidence), st.support, env,
                     None))
    return rows


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS diag_run (
    id INTEGER PRIMARY KEY, ts INTEGER, tenant TEXT, target_hash TEXT, env_fp TEXT,
    problems TEXT, evidence TEXT, preset TEXT);
CREATE TABLE IF NOT EXISTS fix_outcome (
    id INTEGER PRIMARY KEY, ts INTEGER, tenant TEXT, problem_code TEXT, fix_code TEXT,
    confidence REAL, support INTEGER, env_fp TEXT, notes TEXT,
    UNIQUE(tenant, problem_code, fix_code, env_fp));
"""


def write_sqlite(path: str, runs: Iterator[tuple], gen: Generated, batch: int = 50_000,
                 time_order: bool = False) -> int:
    """Write a DevDiag learning store (WAL mode) the way DevDiag lays it out.

    ``generate()`` yields target by target; with ``time_order`` the runs get
    their SQLite ids in ts order instead (ties by generation order), as a
    store that DevDiag appended to while the runs happened has them.
    """
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SQLITE_SCHEMA)
    table = "diag_run"
    if time_order:
        conn.execute("CREATE TEMP TABLE gen_run (ts INTEGER, tenant TEXT, target_hash TEXT, env_fp TEXT, "
                     "problems TEXT, evidence TEXT, preset TEXT)")
        table = "temp.gen_run"
    n = 0
    buf = []
    for row in runs:
        buf.append(row)
        if len(buf) >= batch:
            conn.executemany(f"INSERT INTO {table} (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", buf)
            n += len(buf)
            buf.clear()
    if buf:
        conn.executemany(f"INSERT INTO {table} (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", buf)
        n += len(buf)
    if time_order:
        conn.execute("INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                     "SELECT ts, tenant, target_hash, env_fp, problems, evidence, preset FROM temp.gen_run "
                     "ORDER BY ts, rowid")
        conn.execute("DROP TABLE temp.gen_run")
    conn.executemany(
        "INSERT INTO fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(first, tenant, p, f, c, s, e, notes) for first, _last, tenant, p, f, c, s, e, notes in fix_rows(gen)],
    )
    conn.commit()
    conn.close()
    return n


def copy_to_pg(conn, runs: Iterator[tuple], gen: Generated) -> int:
    """COPY runs and fix outcomes straight into the warehouse (caller commits)."""
    from datetime import datetime, timezone

    n = 0
    run_cols = "ts, tenant, target_hash, env_fp, problems, evidence, preset"
    fix_cols = "ts, tenant, problem_code, fix_code, confidence, support, env_fp, notes"
    with conn.cursor() as cur:
        # Tenant tables force row-level security, which refuses COPY FROM even to
        # their owner: COPY into temporary tables, then INSERT through the policies.
        cur.execute("CREATE TEMP TABLE sample_run AS "
                    f"SELECT {run_cols} FROM devdiag.diag_run WITH NO DATA")
        cur.execute("CREATE TEMP TABLE sample_fix AS "
                    f"SELECT {fix_cols} FROM devdiag.fix_outcome WITH NO DATA")
        with cur.copy(f"COPY sample_run ({run_cols}) FROM STDIN") as cp:
            for ts, tenant, target, env, problems, evidence, preset in runs:
                cp.write_row((datetime.fromtimestamp(ts, timezone.utc), tenant, target, env, problems, evidence,
                              preset))
                n += 1
        with cur.copy(f"COPY sample_fix ({fix_cols}) FROM STDIN") as cp:
            for _first, last, tenant, p, f, c, s, e, notes in fix_rows(gen):
                cp.write_row((datetime.fromtimestamp(last, timezone.utc), tenant, p, f, c, s, e, notes))
        cur.execute(f"INSERT INTO devdiag.diag_run ({run_cols}) SELECT {run_cols} FROM sample_run")
        cur.execute(f"INSERT INTO devdiag.fix_outcome ({fix_cols}) SELECT {fix_cols} FROM sample_fix")
        cur.execute("DROP TABLE sample_run, sample_fix")
        # The views show what the rollups hold: fold the sample in before the caller commits
        # (a warehouse not migrated that far has no refresh yet; migrate rebuilds its rollups).
        if cur.execute("SELECT to_regclass('devdiag_rollup.rollup_refresh_state')").fetchone()[0] is not None:
            cur.execute("CALL devdiag.refresh_rollups()")
    return n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20_000)
    ap.add_argument("--tenants", type=int, default=6)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--now", type=int, help="epoch seconds the history ends at (default: now)")
    dest = ap.add_mutually_exclusive_group(required=True)
    dest.add_argument("--sqlite", help="write a DevDiag SQLite learning store to this path")
    dest.add_argument("--dsn", help="COPY straight into this warehouse")
    args = ap.parse_args(argv)
    gen = Generated()
    runs = generate(args.runs, args.tenants, args.days, args.seed, args.now, gen)
    if args.sqlite:
        if Path(args.sqlite).exists():
            print(f"error: {args.sqlite} exists; refusing to append a second history", file=sys.stderr)
            return 2
        n = write_sqlite(args.sqlite, runs, gen)
    else:
        from .config import connect

        with connect(args.dsn) as conn:
            n = copy_to_pg(conn, runs, gen)
    print(f"{n} runs, {len(gen.fixes)} fix outcomes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
