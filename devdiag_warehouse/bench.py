"""make bench: dashboards and ingest at scale, rollup-backed views against raw-data references.

    devdiag-bench                          # 10 million runs over 180 days, 20 tenants (takes a while)
    devdiag-bench --runs 500000            # smaller, while developing
    devdiag-bench --store /tmp/s.db --keep # reuse / keep the generated SQLite store

1. Generates a realistic history with ``sample_data.generate`` (tenants of
   Zipf-like sizes, targets, environments, problems that come and go, learned
   fixes) into a DevDiag SQLite learning store, runs in time order as DevDiag
   appends them, ending now.
2. Starts a throwaway PostgreSQL (the machine's server, or the embedded one
   with DEVDIAG_PG_MAJOR=embedded), migrates it as the non-superuser owner and
   loads the store through the real ingest path, ``devdiag-sync``, which folds
   the rollups (``devdiag.refresh_rollups``) before it exits: the ingest rate
   is end to end. Beside it, the floor: one COPY of the same runs into an
   empty copy of diag_run; and, where pgloader is installed, pgloader's load
   of the same store into a plain table (a reference: no checks, no rollups).
3. Backfill: the same runs by one COPY through the column contract into a
   fresh warehouse database of the same cluster, then one refresh on
   ``--refresh-workers`` connections (2; ``make refresh --workers``), against
   the floor.
4. Freshness: a direct INSERT (DevDiag writing itself), then a refresh, until
   the run shows in every view; and a sync run, which refreshes before it
   exits. Then the refresh lag after a burst of runs written at once.
5. Per query in ``sql/queries/`` and per Tableau dashboard query: the median
   latency on the rollup-backed views and on the ``v_ref_*`` views computed from
   raw runs, side by side with the ratio, and whether both gave the same rows.
   Per query of ``deployments/prometheus/queries.yaml``: its median latency.
6. The time to archive a UTC day (``devdiag.archive_run_day``: DETACH and
   ATTACH of its partition) and to purge it (``devdiag.purge_archive_day``),
   one transaction each, as the retention job does; for a typical day and for
   the day with the most runs.

Writes ``bench/results/latest.md`` and ``latest.json`` (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import sample_data
from .refresh import refresh_side_by_side
from .config import ROOT
from .localdb import (
    LocalCluster,
    dedicated_memory_settings,
    find_bindir,
    free_port,
    server_version,
)

QUERIES_DIR = ROOT / "sql" / "queries"
# Contract views and the references computed from raw runs (same columns).
REFERENCE = {
    "v_problem_counts": "v_ref_problem_counts",
    "v_fix_success": "v_ref_fix_success",
    "v_fix_ranking": "v_ref_fix_ranking",
    "v_env_diversity": "v_ref_env_diversity",
    "v_ttr_episodes": "v_ref_ttr_episodes",
    "v_ttr_days": "v_ref_ttr_days",
    "v_open_problems": "v_ref_open_problems",
    "v_tenant_health": "v_ref_tenant_health",
    "v_ttr_histogram": "v_ref_ttr_histogram",
    "v_episode_days": "v_ref_episode_days",
    "v_tenant_daily": "v_ref_tenant_daily",
    "v_problem_episodes": "v_ref_problem_episodes",
    "v_recurrence_days": "v_ref_recurrence_days",
    "v_ttr_blocks": "v_ref_ttr_blocks",
}
# Functions over those views whose devdiag_ref twin is made from the same definition
# with the views swapped for their references (sql/functions/355).
REFERENCE_FUNCTIONS = ["tenant_health_window"]
GOAL_MS = 20.0
GOAL_RATIO = 100.0
GOAL_INGEST_RUNS_S = 50_000
GOAL_FLOOR_RATIO = 1.5
GOAL_DAY_MS = 50.0
GOAL_PROMETHEUS_MS = 100.0
PROMETHEUS_QUERIES = ROOT / "deployments" / "prometheus" / "queries.yaml"
# The columns a writer outside the sync sends (ingest ids and source identity are the warehouse's).
CONTRACT_COLUMNS = "id, ts, tenant, target_hash, env_fp, problems, evidence, preset"
BURST_RUNS = 10_000
FRESH_CODE = "BENCH_FRESHNESS_PROBE"


def as_reference(sql: str) -> str:
    """The same query over the raw-data reference views (and functions)."""
    for view, ref in REFERENCE.items():
        sql = re.sub(rf"\bdevdiag\.{view}\b", f"devdiag_ref.{ref}", sql)
    for fn in REFERENCE_FUNCTIONS:
        sql = re.sub(rf"\bdevdiag\.{fn}\b", f"devdiag_ref.{fn}", sql)
    return sql


def dashboard_queries(tenant: str, problem: str) -> list[dict]:
    """What Tableau sends for the four dashboards and a recent-activity sheet.

    Filters: the largest tenant, its top problem.
    """
    return [
        {"name": "dashboard: tenant's 30-day trend (v_problem_counts)", "params": (tenant,), "sql": """
            SELECT day, problem_code, sum(runs) AS runs
            FROM devdiag.v_problem_counts
            WHERE tenant = %s AND day >= current_date - 30
            GROUP BY 1, 2 ORDER BY 1, 2"""},
        {"name": "dashboard: fix effectiveness for a problem (v_fix_success)", "params": (problem,), "sql": """
            SELECT fix_code, sum(successes) AS successes, avg(avg_confidence) AS confidence
            FROM devdiag.v_fix_success
            WHERE problem_code = %s
            GROUP BY 1 ORDER BY 2 DESC, 1"""},
        {"name": "dashboard: tenant's TTR histogram (count over v_ttr_days)", "params": (tenant,), "sql": """
            SELECT ttr_days, count(*) AS episodes
            FROM devdiag.v_ttr_days
            WHERE tenant = %s
            GROUP BY 1 ORDER BY 1"""},
        {"name": "dashboard: tenant's TTR histogram (v_ttr_histogram)", "params": (tenant,), "sql": """
            SELECT ttr_days, sum(episodes) AS episodes
            FROM devdiag.v_ttr_histogram
            WHERE tenant = %s
            GROUP BY 1 ORDER BY 1"""},
        {"name": "dashboard: tenant's 20 most recent runs (v_recent_activity)", "params": (tenant,), "sql": """
            SELECT ts, problem_count, problems, preset
            FROM devdiag.v_recent_activity
            WHERE tenant = %s
            ORDER BY ts DESC, run_id DESC
            LIMIT 20"""},
        {"name": "dashboard: tenant health, one tenant (v_tenant_health)", "params": (tenant,), "sql": """
            SELECT * FROM devdiag.v_tenant_health WHERE tenant = %s"""},
        {"name": "dashboard: tenant health, every tenant (v_tenant_health)", "params": (), "sql": """
            SELECT * FROM devdiag.v_tenant_health ORDER BY tenant"""},
    ]


# -- machine and processes ------------------------------------------------------------

def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, IndexError, ValueError):
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_gb": mem_gb, "os": platform.platform(),
            "python": platform.python_version(), "commit": commit}


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")


def cluster_cpu(postmaster: int) -> float:
    """CPU seconds of the postmaster and its children (live and reaped)."""
    total = proc_cpu(postmaster)
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    total += proc_cpu(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return total


def say(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# -- steps -------------------------------------------------------------------------------

def make_store(path: Path, args, now: int) -> int:
    gen = sample_data.Generated()
    runs = sample_data.generate(args.runs, args.tenants, args.days, args.seed, now, gen)
    return sample_data.write_sqlite(str(path), runs, gen, time_order=True)


def run_sync(store: Path, dsn: str, source: str, postmaster: int | None) -> dict:
    env = dict(os.environ, DEVDIAG_CONFIG=str(Path(tempfile.gettempdir()) / "no-devdiag.yaml"))
    pg_before = cluster_cpu(postmaster) if postmaster else None
    load = os.getloadavg()[0]
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "devdiag_warehouse.sync", "--quiet",
                          "--no-progress", "--dsn", dsn, "--sqlite", str(store), "--source", source],
                         env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if res.returncode not in (0, 1):
        raise SystemExit(f"sync failed ({res.returncode}): {res.stderr.strip()}")
    m = re.search(r"runs (\d+) read, (\d+) landed", res.stdout + res.stderr)
    landed = int(m.group(2)) if m else 0
    out = {"wall_s": round(wall, 2), "runs_landed": landed, "runs_per_s": round(landed / wall) if wall else None,
           "summary": (res.stdout + res.stderr).strip().splitlines()[-1] if (res.stdout + res.stderr).strip() else "",
           "load_avg_before": round(load, 2), "load_avg_after": round(os.getloadavg()[0], 2)}
    if postmaster:
        cpu = cluster_cpu(postmaster) - pg_before
        out["postgres_cpu_s"] = round(cpu, 1)
        out["postgres_cpu_us_per_run"] = round(cpu / landed * 1e6, 1) if landed else None
    return out


def dump_runs(conn, cols: str, path: Path) -> None:
    """Writes the given columns of every run of diag_run to a file (binary COPY out)."""
    with conn.cursor() as cur, path.open("wb") as fh, \
            cur.copy(f"COPY (SELECT {cols} FROM devdiag.diag_run) TO STDOUT (FORMAT binary)") as cp:
        for chunk in cp:
            fh.write(chunk)


def copy_in(conn, table: str, cols: str, path: Path) -> float:
    """One binary COPY of a dump into a table; its wall seconds."""
    started = time.monotonic()
    with conn.cursor() as cur, path.open("rb") as fh, \
            cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT binary)") as cp:
        while chunk := fh.read(1 << 20):
            cp.write(chunk)
    return time.monotonic() - started


def ingest_floor(conn, work: Path, postmaster: int) -> dict:
    """The floor under ingest: one COPY of the same runs into an empty copy of diag_run.

    The copy has the same day partitions, keys, indexes and CHECK constraints
    and no rollups; the runs are written to a file first (binary COPY out), so
    the timed COPY in is the table's own cost. Dropped afterwards.
    """
    from psycopg import sql

    cols = ", ".join(r[0] for r in conn.execute(
        """SELECT quote_ident(a.attname) FROM pg_attribute AS a
           WHERE a.attrelid = 'devdiag.diag_run'::regclass AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""").fetchall())
    conn.execute("CREATE SCHEMA bench_floor")
    conn.execute("CREATE TABLE bench_floor.diag_run (LIKE devdiag.diag_run INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                 "INCLUDING INDEXES) PARTITION BY RANGE (ts)")
    conn.execute("CREATE TABLE bench_floor.p_default PARTITION OF bench_floor.diag_run DEFAULT")
    days = [r[0] for r in conn.execute("SELECT devdiag.run_partition_days('devdiag.diag_run')").fetchall()]
    for day in days:
        lo, hi = sql.Literal(f"{day} 00:00Z"), sql.Literal(f"{day + timedelta(days=1)} 00:00Z")
        part = sql.Identifier(f"p_{day:%Y%m%d}")
        conn.execute(sql.SQL("CREATE TABLE bench_floor.{} PARTITION OF bench_floor.diag_run "
                             "FOR VALUES FROM ({}) TO ({})").format(part, lo, hi))
        # the CHECK of its bounds each day partition of diag_run carries (devdiag.run_partition_for_day)
        conn.execute(sql.SQL("ALTER TABLE bench_floor.{} ADD CHECK (ts >= {} AND ts < {})").format(part, lo, hi))
    dump = work / "floor.copy"
    dump_runs(conn, cols, dump)
    runs = conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0]
    cpu_before = cluster_cpu(postmaster)
    wall = copy_in(conn, "bench_floor.diag_run", cols, dump)
    cpu = cluster_cpu(postmaster) - cpu_before
    conn.execute("DROP SCHEMA bench_floor CASCADE")
    dump.unlink()
    return {"runs": runs, "partitions": len(days) + 1, "wall_s": round(wall, 2),
            "runs_per_s": round(runs / wall) if wall else None,
            "postgres_cpu_us_per_run": round(cpu / runs * 1e6, 1) if runs else None}


def drop_database(cluster, dbname: str) -> None:
    """Drops a database of the throwaway cluster, its sessions ended first."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.superuser_dsn(), autocommit=True) as su:
        su.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def pgloader_reference(cluster, store: Path, work: Path, postmaster: int, floor: dict) -> dict:
    """The same SQLite store loaded by pgloader (Debian ``pgloader``), where it is installed.

    A reference, not a target: pgloader copies the store's ``diag_run`` table
    as it is into a table of its own (the store's columns, its primary key) in
    a fresh database of the same cluster, with no checks, no privacy, no
    idempotency and no rollups. The database is dropped afterwards.
    """
    import psycopg

    exe = shutil.which("pgloader")
    if exe is None:
        return {"note": "pgloader is not installed (Debian package pgloader)"}
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    dbname = "devdiag_bench_pgloader"
    cluster.ensure_owner_database(dbname)
    command = work / "pgloader.load"
    command.write_text(
        "LOAD DATABASE\n"
        f"  FROM sqlite://{store.resolve()}\n"
        f"  INTO postgresql://postgres@unix:{cluster.sockdir}:{cluster.port}/{dbname}\n"
        "  WITH include drop, create tables, create indexes, reset sequences\n"
        "  INCLUDING ONLY TABLE NAMES LIKE 'diag_run';\n", encoding="utf-8")
    try:
        cpu_before = cluster_cpu(postmaster)
        started = time.monotonic()
        res = subprocess.run([exe, "--root-dir", str(work / "pgloader"), str(command)],
                             capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        cpu = cluster_cpu(postmaster) - cpu_before
        if res.returncode != 0:
            said = (res.stderr or res.stdout).strip().splitlines()
            return {"note": f"pgloader failed ({res.returncode}): {said[-1] if said else 'no output'}"}
        with psycopg.connect(cluster.superuser_dsn(dbname)) as conn:
            runs = conn.execute("SELECT count(*) FROM diag_run").fetchone()[0]
    finally:
        drop_database(cluster, dbname)
    return {"version": version.strip().splitlines()[0] if version.strip() else None, "runs": runs,
            "wall_s": round(wall, 2), "runs_per_s": round(runs / wall) if wall else None,
            "postgres_cpu_us_per_run": round(cpu / runs * 1e6, 1) if runs else None,
            "ratio_to_floor": round(wall / floor["wall_s"], 2) if floor.get("wall_s") else None}


def backfill(conn, cluster, work: Path, postmaster: int, floor: dict, workers: int) -> dict:
    """A backfill: the same runs by one COPY into a fresh warehouse database, then one refresh of the rollups
    on ``workers`` connections (``make refresh REFRESH_ARGS="--workers N"``).

    The runs go in through the column contract (no ingest id, no source
    identity: the warehouse draws the ingest ids), after the day partitions
    were created (``ensure_run_partitions``), as a backfill tool does. The COPY
    runs as the cluster's superuser: row security (FORCEd on the run tables)
    refuses COPY FROM to every other role. The database is dropped afterwards.
    """
    import psycopg

    from .migrate import Migrator

    dump = work / "backfill.copy"
    dump_runs(conn, CONTRACT_COLUMNS, dump)
    runs, first_ts, last_ts = conn.execute("SELECT count(*), min(ts), max(ts) FROM devdiag.diag_run").fetchone()
    dbname = "devdiag_bench_backfill"
    cluster.ensure_owner_database(dbname)
    try:
        with open(os.devnull, "w") as quiet, Migrator(cluster.owner_dsn(dbname), out=quiet) as mig:
            mig.apply()
        with psycopg.connect(cluster.superuser_dsn(dbname), autocommit=True) as bconn:
            partitions = bconn.execute("SELECT devdiag.ensure_run_partitions(%s, %s)",
                                       (first_ts, last_ts)).fetchone()[0]
            cpu_before = cluster_cpu(postmaster)
            copy_s = copy_in(bconn, "devdiag.diag_run", CONTRACT_COLUMNS, dump)
            started = time.monotonic()
            if workers > 1:
                folded, errors = refresh_side_by_side(bconn, cluster.superuser_dsn(dbname), workers, 5.0)
                if errors:
                    raise SystemExit(f"backfill: a fold of a set of tenants failed: {errors[0]}")
            else:
                folded = bconn.execute("CALL devdiag.refresh_rollups()").fetchone()[0]
            refresh_s = time.monotonic() - started
            cpu = cluster_cpu(postmaster) - cpu_before
            # every run folded: the rollups' run total against the table's
            rolled = bconn.execute("SELECT coalesce(sum(runs), 0)::bigint FROM devdiag_rollup.rollup_tenant_total").fetchone()[0]
    finally:
        dump.unlink(missing_ok=True)
        drop_database(cluster, dbname)
    total = copy_s + refresh_s
    return {"runs": runs, "partitions_created": partitions, "copy_s": round(copy_s, 2),
            "refresh_s": round(refresh_s, 2), "refresh_workers": workers, "runs_folded": folded, "rollup_runs": rolled,
            "total_s": round(total, 2), "runs_per_s": round(runs / total) if total else None,
            "postgres_cpu_us_per_run": round(cpu / runs * 1e6, 1) if runs else None,
            "floor_wall_s": floor.get("wall_s"),
            "ratio_to_floor": round(total / floor["wall_s"], 2) if floor.get("wall_s") else None}


def refresh_how(bf: dict) -> str:
    """How the backfill's refresh ran, for the report."""
    workers = bf.get("refresh_workers", 1)
    if workers > 1:
        return (f"`make refresh REFRESH_ARGS=\"--workers {workers}\"` (runs to fold estimated per tenant, {workers} "
                "sets of tenants folded at once, then the all-tenant refresh)")
    return "`CALL devdiag.refresh_rollups()`"


def timed(conn, sql: str, params=()) -> tuple[float, list]:
    t = time.perf_counter()
    rows = conn.execute(sql, params or None).fetchall()
    return (time.perf_counter() - t) * 1000, rows


def normalise(rows: list) -> list:
    """Rows compared as sets of rounded values (float sums may differ in the last bit with summation order)."""
    def cell(v):
        return round(v, 9) if isinstance(v, float) else v
    return sorted((tuple(cell(c) for c in r) for r in rows), key=repr)


def measure(conn, q: dict, reps: int, ref_reps: int, ref_timeout_s: int) -> dict:
    sql, params = q["sql"], q.get("params", ())
    ref_sql = as_reference(sql)
    timed(conn, sql, params)  # warm the cache and the plan
    fast = []
    rows = None
    for _ in range(reps):
        ms, rows = timed(conn, sql, params)
        fast.append(ms)
    out = {"name": q["name"], "rollup_median_ms": round(statistics.median(fast), 2), "rollup_runs": reps}
    if ref_sql == sql:
        out.update(ref_median_ms=None, ratio=None, same_rows=None, note="reads raw runs directly (no rollup)")
        return out
    conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(ref_timeout_s * 1000),))
    slow = []
    ref_rows = None
    try:
        for i in range(ref_reps):
            ms, got = timed(conn, ref_sql, params)
            slow.append(ms)
            ref_rows = ref_rows if ref_rows is not None else got
            if ms > 10_000:  # one measurement of a slow reference is enough
                break
    except Exception as exc:  # noqa: BLE001 - a timed-out reference is reported, not fatal
        conn.rollback()
        out.update(ref_median_ms=None, ratio=None, same_rows=None, note=f"reference failed: {str(exc).splitlines()[0]}")
        return out
    finally:
        conn.execute("SET statement_timeout = 0")
    ref_ms = statistics.median(slow)
    if re.search(r"\bLIMIT\b", sql, re.IGNORECASE):
        # ties at the cut may be broken differently: compare the whole ordered input instead
        rows = conn.execute(strip_limit(sql), params or None).fetchall()
        ref_rows = conn.execute(strip_limit(ref_sql), params or None).fetchall()
    out.update(ref_median_ms=round(ref_ms, 1), ref_runs=len(slow), ratio=round(ref_ms / out["rollup_median_ms"], 1),
               same_rows=normalise(rows) == normalise(ref_rows))
    return out


def strip_limit(sql: str) -> str:
    return re.sub(r"\bLIMIT\s+\d+", "", sql, flags=re.IGNORECASE)


def psql_run(dsn: str, path: Path, reps: int, timeout_s: int) -> tuple[list[float], str]:
    """Run a query file ``reps`` times in one psql session; the last statement's time per run, and its output.

    psql itself is used because the files are psql scripts (variables with
    defaults, \\gset); ``\\timing`` measures each statement from psql, so process
    start-up is not counted. Only the last statement of a run (the query; the
    others compute parameter defaults) is taken. The server cancels a statement
    after ``timeout_s`` (statement_timeout): a query given up must not go on
    holding its locks, or the archive and purge measured later wait for it.
    """
    env = dict(os.environ, PGOPTIONS=f"-c statement_timeout={timeout_s * 1000}")
    args = [str(find_bindir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn,
            "-o", os.devnull, "-c", "\\timing on"]
    for _ in range(reps):
        args += ["-f", str(path), "-c", "\\echo BENCH-RUN-END"]
    res = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s * reps + 60, check=False, env=env)
    if res.returncode != 0:
        # (from ERROR: on: psql's prefix names the file, a scratch path)
        raise RuntimeError(psql_error(res.stderr))
    times, last = [], None
    for line in res.stdout.splitlines():
        m = re.match(r"Time: ([\d.]+) ms", line)
        if m:
            last = float(m.group(1))
        elif line.strip() == "BENCH-RUN-END" and last is not None:
            times.append(last)
            last = None
    out = subprocess.run([str(find_bindir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          "-d", dsn, "-f", str(path)], capture_output=True, text=True, timeout=timeout_s + 60,
                         check=False, env=env)
    if out.returncode != 0:
        # a run cut short by the timeout has no rows to compare: say why instead
        raise RuntimeError(psql_error(out.stderr))
    return times, out.stdout


def psql_error(stderr: str) -> str:
    """The ERROR line psql printed (the CONTEXT lines after it only say where), from ERROR: on."""
    said = stderr.strip().splitlines()
    error = next((line[line.index("ERROR:"):] for line in said if "ERROR:" in line), None)
    return error or (said[-1] if said else "psql failed")


def measure_file(dsn: str, path: Path, reps: int, ref_reps: int, timeout_s: int, work: Path) -> dict:
    """A query file of sql/queries/ on the rollups and, rewritten onto the v_ref_* views, on raw runs."""
    sql = path.read_text()
    out = {"name": path.name}
    psql_run(dsn, path, 1, timeout_s)  # warm up
    fast, rows = psql_run(dsn, path, reps, timeout_s)
    out.update(rollup_median_ms=round(statistics.median(fast), 2), rollup_runs=len(fast))
    ref_sql = as_reference(sql)
    if ref_sql == sql:
        out.update(ref_median_ms=None, ratio=None, same_rows=None, note="reads raw runs directly (no rollup)")
        return out
    # next to a copy of include/, which the 3xx files read with \ir
    qdir = work / "queries"
    if not (qdir / "include").exists():
        shutil.copytree(QUERIES_DIR / "include", qdir / "include")
    ref_path = qdir / f"ref_{path.name}"
    ref_path.write_text(ref_sql)
    try:
        slow, ref_rows = psql_run(dsn, ref_path, 1, timeout_s)
        if slow and slow[0] < 10_000 and ref_reps > 1:
            more, _ = psql_run(dsn, ref_path, ref_reps - 1, timeout_s)
            slow += more
        same = sorted(rows.splitlines()) == sorted(ref_rows.splitlines())
        if not same and re.search(r"\bLIMIT\b", sql, re.IGNORECASE):
            # ties at the cut may be broken differently: compare the whole ordered input instead
            whole, whole_ref = qdir / f"all_{path.name}", qdir / f"all_ref_{path.name}"
            whole.write_text(strip_limit(sql))
            whole_ref.write_text(strip_limit(ref_sql))
            same = sorted(psql_run(dsn, whole, 1, timeout_s)[1].splitlines()) == sorted(
                psql_run(dsn, whole_ref, 1, timeout_s)[1].splitlines())
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        out.update(ref_median_ms=None, ratio=None, same_rows=None, note=f"reference failed: {exc}")
        return out
    ref_ms = statistics.median(slow)
    out.update(ref_median_ms=round(ref_ms, 1), ref_runs=len(slow), ratio=round(ref_ms / out["rollup_median_ms"], 1),
               same_rows=same)
    return out


def refresh(conn) -> tuple[float, int | None]:
    """``CALL devdiag.refresh_rollups()``: its wall milliseconds and what it folded (NULL: writers held on)."""
    started = time.perf_counter()
    folded = conn.execute("CALL devdiag.refresh_rollups()").fetchone()[0]
    return (time.perf_counter() - started) * 1000, folded


def pending_ids(conn) -> int | None:
    row = conn.execute("SELECT pending_ids FROM devdiag.v_monitor_rollups").fetchone()
    return row[0] if row else None


def freshness(conn, dsn: str, work: Path, postmaster: int | None) -> dict:
    """From the start of an ingest to the new run being visible in every view that shows it.

    The views are exact as of the last refresh: a direct INSERT is visible
    once ``devdiag.refresh_rollups()`` has run after it, and a sync run once
    the process has ended (it refreshes before it exits). Either should be
    visible at the first look; the probe waits a little longer only to tell
    "late" from "never".
    """
    tenant, target, env = conn.execute(
        "SELECT tenant, target_hash, env_fp FROM devdiag.diag_run ORDER BY ts DESC LIMIT 1").fetchone()

    def visible(code: str) -> bool:
        checks = [
            ("SELECT count(*) FROM devdiag.v_problem_counts WHERE tenant = %s AND problem_code = %s", (tenant, code)),
            ("SELECT count(*) FROM devdiag.v_env_diversity WHERE tenant = %s AND problem_code = %s", (tenant, code)),
            ("SELECT count(*) FROM devdiag.v_ttr_episodes WHERE tenant = %s AND problem_code = %s", (tenant, code)),
            ("SELECT count(*) FROM devdiag.v_recent_activity WHERE tenant = %s AND problems LIKE %s",
             (tenant, f"%{code}%")),
        ]
        return all(conn.execute(sql, p).fetchone()[0] > 0 for sql, p in checks)

    def wait_visible(code: str, started: float, limit_s: float = 5.0) -> tuple[float | None, bool]:
        """Milliseconds from ``started`` until visible (None when not within limit_s), and whether the first look saw it."""
        at_once = visible(code)
        if not at_once:
            waited = time.perf_counter()
            while not visible(code):
                if time.perf_counter() - waited > limit_s:
                    return None, False
                time.sleep(0.005)
        return (time.perf_counter() - started) * 1000, at_once

    runs_7d_before = conn.execute("SELECT runs_7d FROM devdiag.v_tenant_health WHERE tenant = %s",
                                  (tenant,)).fetchone()[0]
    out = {}
    # DevDiag writing to the warehouse itself, one run per INSERT (autocommit), then a refresh.
    code = f"{FRESH_CODE}_INSERT"
    started = time.perf_counter()
    conn.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                 "VALUES (now(), %s, %s, %s, jsonb_build_array(%s::text), '{}', 'full')", (tenant, target, env, code))
    out["insert_commit_ms"] = round((time.perf_counter() - started) * 1000, 2)
    out["insert_visible_before_refresh"] = visible(code)
    out["refresh_pending_ids"] = pending_ids(conn)
    ms, folded = refresh(conn)
    out["refresh_ms"] = round(ms, 2)
    out["refresh_folded"] = folded
    visible_ms, at_once = wait_visible(code, started)
    out["insert_visible_ms"] = round(visible_ms, 2) if visible_ms is not None else None
    out["insert_visible_at_once"] = at_once
    # A DevDiag instance's store with one new run, then a sync run (process start to visible).
    # Its own store and source: the sync then compares only that store's fix outcomes.
    code = f"{FRESH_CODE}_SYNC"
    probe = work / "freshness-probe.db"
    lite = sqlite3.connect(probe)
    lite.executescript(sample_data.SQLITE_SCHEMA)
    lite.execute("INSERT INTO diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                 "VALUES (?, ?, ?, ?, ?, '{}', 'full')", (int(time.time()) + 2, tenant, target, env, json.dumps([code])))
    lite.commit()
    lite.close()
    started = time.perf_counter()
    sync = run_sync(probe, dsn, "freshness-probe", postmaster)
    out["sync_wall_ms"] = round((time.perf_counter() - started) * 1000, 1)
    visible_ms, at_once = wait_visible(code, started)
    out["sync_visible_ms"] = round(visible_ms, 1) if visible_ms is not None else None
    out["sync_visible_at_once"] = at_once
    out["sync_summary"] = sync["summary"]
    runs_7d_after = conn.execute("SELECT runs_7d FROM devdiag.v_tenant_health WHERE tenant = %s",
                                 (tenant,)).fetchone()[0]
    out["tenant_health_runs_7d_moved_by"] = runs_7d_after - runs_7d_before
    return out


def refresh_after_burst(conn, tenant: str, n: int = BURST_RUNS) -> dict:
    """The refresh lag after a burst: n runs written by one INSERT ... SELECT, then one refresh.

    The burst copies the biggest tenant's newest runs (repeated when it has
    fewer than n), spread in time order between its newest run and now, so
    they follow its history as a fleet catching up would; ids, ingest ids and
    source identity come from their defaults.
    """
    newest = conn.execute("SELECT max(ts) FROM devdiag.diag_run WHERE tenant = %s", (tenant,)).fetchone()[0]
    have = conn.execute("SELECT count(*) FROM (SELECT FROM devdiag.diag_run WHERE tenant = %s LIMIT %s) AS k",
                        (tenant, n)).fetchone()[0]
    conn.execute("SELECT devdiag.ensure_run_partitions(%s, now())", (newest,))
    started = time.perf_counter()
    written = conn.execute(
        """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset)
           SELECT %(newest)s + (now() - %(newest)s) * (b.rn::float8 / %(n)s), %(tenant)s,
                  b.target_hash, b.env_fp, b.problems, b.evidence, b.preset
           FROM (
               SELECT s.*, row_number() OVER (ORDER BY g.i, s.ts) AS rn
               FROM (SELECT d.ts, d.target_hash, d.env_fp, d.problems, d.evidence, d.preset
                     FROM devdiag.diag_run AS d WHERE d.tenant = %(tenant)s
                     ORDER BY d.ts DESC LIMIT %(n)s) AS s
               CROSS JOIN generate_series(1, %(copies)s) AS g (i)
           ) AS b
           WHERE b.rn <= %(n)s""",
        {"tenant": tenant, "n": n, "newest": newest, "copies": -(-n // max(1, have))}).rowcount
    insert_ms = (time.perf_counter() - started) * 1000
    pending = pending_ids(conn)
    ms, folded = refresh(conn)
    return {"tenant": tenant, "runs_written": written, "insert_commit_ms": round(insert_ms, 1),
            "pending_ids": pending, "refresh_ms": round(ms, 1), "runs_folded": folded,
            "refresh_us_per_run": round(ms * 1000 / folded, 1) if folded else None,
            "pending_ids_after": pending_ids(conn)}


def prometheus_queries(conn, reps: int = 5) -> list[dict]:
    """Median latency of each query the exporter runs (deployments/prometheus/queries.yaml), after one warm-up."""
    import yaml

    spec = yaml.safe_load(PROMETHEUS_QUERIES.read_text()) or {}
    out = []
    for name, q in spec.items():
        if not isinstance(q, dict) or not q.get("query"):
            continue
        try:
            timed(conn, q["query"])
            times = [timed(conn, q["query"])[0] for _ in range(reps)]
        except Exception as exc:  # noqa: BLE001 - a failing query is reported, not fatal
            out.append({"name": name, "median_ms": None, "note": f"failed: {str(exc).splitlines()[0]}"})
            continue
        out.append({"name": name, "median_ms": round(statistics.median(times), 2), "runs": reps,
                    "cache_seconds": q.get("cache_seconds")})
    return out


def archive_days(conn, days: int) -> dict:
    """Archive a UTC day of runs, then purge it, with the retention job's day functions, one transaction each.

    Two days: a typical one and the one with the most runs before today (UTC).
    The generated history thins out towards its start, so its first UTC day is
    not typical: the typical day is the oldest whose run count reaches the
    average day's (live runs / days). The archive is a DETACH and ATTACH of
    the day's partition, so no view may change; the purge takes the day out of
    the archive, and the refresh after it takes its runs out of the rollups
    (timed apart: the purge's figure is what holds the archive's lock).
    """
    exists = conn.execute("SELECT to_regprocedure('devdiag.archive_run_day(date)')").fetchone()[0]
    if exists is None:
        return {"days": [], "note": "skipped: devdiag.archive_run_day does not exist"}
    # Days before the current UTC day only: the freshness probes and the burst wrote into today.
    counts = conn.execute("SELECT (ts AT TIME ZONE 'UTC')::date AS day, count(*) FROM devdiag.diag_run "
                          "WHERE ts < date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' "
                          "GROUP BY 1 ORDER BY 1").fetchall()
    conn.commit()
    per_day = max(1, sum(n for _, n in counts) // days)
    typical = next((d for d, n in counts if n >= per_day), None)
    busiest = max(((n, d) for d, n in counts if d != typical), default=None)
    picks = ([("typical day", typical)] if typical else []) + ([("busiest day", busiest[1])] if busiest else [])
    if not picks:
        return {"days": [], "note": "skipped: no day holds an average day's runs"}
    return {"days": [dict(archive_one_day(conn, day), kind=kind) for kind, day in picks]}


def archive_one_day(conn, day) -> dict:
    """Archive one UTC day, then purge it (one transaction each); whether the archive left the views as they were."""
    total = conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0]
    conn.execute("SELECT devdiag.ensure_run_partitions(%s, %s)", (day, day))
    conn.commit()
    snapshot = ("SELECT (SELECT sum(runs) FROM devdiag.v_problem_counts), (SELECT count(*) FROM devdiag.v_ttr_episodes), "
                "(SELECT sum(total_runs) FROM devdiag.v_env_diversity), "
                "(SELECT sum(problem_runs) FROM devdiag.v_tenant_health)")
    before = conn.execute(snapshot).fetchone()
    conn.commit()
    t = time.perf_counter()
    moved = conn.execute("SELECT devdiag.archive_run_day(%s)", (day,)).fetchone()[0]
    conn.commit()
    archive_ms = (time.perf_counter() - t) * 1000
    after = conn.execute(snapshot).fetchone()
    conn.commit()
    t = time.perf_counter()
    purged = conn.execute("SELECT devdiag.purge_archive_day(%s)", (day,)).fetchone()[0]
    conn.commit()
    purge_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    conn.execute("CALL devdiag.refresh_rollups()")
    conn.commit()
    refresh_ms = (time.perf_counter() - t) * 1000
    return {"day": f"{day:%Y-%m-%d} (UTC)", "runs_moved": moved, "runs_purged": purged, "table_runs": total,
            "archive_ms": round(archive_ms, 1), "purge_ms": round(purge_ms, 1),
            "refresh_after_purge_ms": round(refresh_ms, 1), "views_unchanged": before == after}


# -- report -------------------------------------------------------------------------------

def fmt_ms(v) -> str:
    if v is None:
        return "n/a"
    if v >= 10_000:
        return f"{v / 1000:,.1f} s"
    return f"{v:,.1f} ms" if v >= 10 else f"{v:,.2f} ms"


def verdict(q: dict) -> str:
    ok_ms = q["rollup_median_ms"] <= GOAL_MS
    ref = q.get("ref_median_ms")
    ok_ratio = ref is None or ref <= 1000 or (q.get("ratio") or 0) >= GOAL_RATIO
    if ok_ms and ok_ratio:
        return "yes"
    missed = []
    if not ok_ms:
        missed.append(f"> {GOAL_MS:.0f} ms")
    if not ok_ratio:
        missed.append(f"< {GOAL_RATIO:.0f}x")
    return "no (" + ", ".join(missed) + ")"


def yes_no(ok: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[ok]


def render(res: dict) -> str:
    m, s = res["machine"], res["scale"]
    lines = [
        "# make bench: latest results",
        "",
        f"{res['finished_at']} · commit {m['commit']} · {res['server']}",
        (f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gb']} GB RAM ({m['os']}); "
        f"load average {res['load_avg_start']} at start, {res['load_avg_end']} at end (the machine is shared)."),
        "Server: a throwaway cluster configured as a dedicated server for this machine ("
        + ", ".join(f"{k}={v}" for k, v in res.get("server_settings", {}).items()) + ").",
        (f"Data: {s['runs_generated']:,} runs generated over {s['days']} days, {s['tenants']} tenants of skewed sizes "
        f"(seed {s['seed']}), {s['fix_outcomes']:,} fix outcomes, {s['episodes']:,} remediation episodes."),
        "",
        "## Ingest (SQLite store -> devdiag-sync -> warehouse, its closing rollup refresh included)",
        "",
    ]
    ing, fl = res["ingest"], res.get("floor")
    ratio = ing["wall_s"] / fl["wall_s"] if fl and fl.get("wall_s") else None
    lines += [(f"Goals: >= {GOAL_INGEST_RUNS_S:,} runs/s, and <= {GOAL_FLOOR_RATIO}x the floor's wall time "
              "(the floor: one COPY of the same runs into an empty copy of diag_run with the same "
              f"{fl['partitions'] if fl else '?'} partitions, keys, indexes and constraints; no rollups)."), "",
              "| path | runs | wall | runs/s | PostgreSQL CPU per run | wall / floor | goal met |",
              "|---|---:|---:|---:|---:|---:|---|",
              (f"| ingest (sync, refresh included) | {ing['runs_landed']:,} | {ing['wall_s']:,.1f} s | "
              f"{ing['runs_per_s']:,} | {ing.get('postgres_cpu_us_per_run', 'n/a')} µs | "
              f"{f'{ratio:.2f}x' if ratio else 'n/a'} | "
              f"{yes_no(ing['runs_per_s'] >= GOAL_INGEST_RUNS_S and (ratio is None or ratio <= GOAL_FLOOR_RATIO))} |")]
    if fl:
        lines.append(f"| floor (COPY) | {fl['runs']:,} | {fl['wall_s']:,.1f} s | {fl['runs_per_s']:,} | "
                     f"{fl['postgres_cpu_us_per_run']} µs | 1x | |")
    bf = res.get("backfill")
    if bf and "copy_s" in bf:
        how = (f"one refresh on {bf['refresh_workers']} connections"
               if bf.get("refresh_workers", 1) > 1 else "one refresh")
        lines.append(f"| backfill (COPY through the column contract + {how}, fresh database) | {bf['runs']:,} | "
                     f"{bf['total_s']:,.1f} s | {bf['runs_per_s']:,} | {bf['postgres_cpu_us_per_run']} µs | "
                     f"{bf['ratio_to_floor']:.2f}x | {yes_no(bf['ratio_to_floor'] <= GOAL_FLOOR_RATIO)} |")
    pl = res.get("pgloader")
    loaded = pl if pl and "wall_s" in pl else None
    if loaded:
        pl_ratio = f"{pl['ratio_to_floor']:.2f}x" if pl.get("ratio_to_floor") else "n/a"
        lines.append(f"| reference: pgloader, the store's table as it is (no checks, no rollups) | {pl['runs']:,} | "
                     f"{pl['wall_s']:,.1f} s | {pl['runs_per_s']:,} | {pl['postgres_cpu_us_per_run']} µs | "
                     f"{pl_ratio} | |")
    lines += ["", f"Sync summary: `{ing['summary']}`"]
    if loaded:
        every = ("every run of the same store" if pl["runs"] == s["runs_generated"]
                 else f"**{pl['runs']:,} of the {s['runs_generated']:,} runs** of the same store")
        lines += ["", (f"pgloader ({pl['version']}) loaded {every} in {pl['wall_s']:,.1f} s: the "
                  f"sync took {ing['wall_s'] / pl['wall_s']:.2f}x its time. It is a reference, not a target: it "
                  "copies the store's table into a plain table of its own, and checks, hides and folds nothing.")]
    elif pl:
        lines += ["", f"pgloader: {pl['note']}."]
    if bf and "copy_s" in bf:
        folded_all = bf["rollup_runs"] == bf["runs"]
        bf_folded = f"{bf['runs_folded']:,} runs" if bf["runs_folded"] is not None else "nothing: writers held on"
        lines += ["", (f"Backfill: {bf['partitions_created']} day partitions created first; COPY {bf['copy_s']:,.1f} s, "
                  f"then {refresh_how(bf)} {bf['refresh_s']:,.1f} s "
                  f"(folded {bf_folded}"
                  f"; rollups count {bf['rollup_runs']:,} runs, {'all of them' if folded_all else '**not all**'}); "
                  f"goal <= {GOAL_FLOOR_RATIO}x the floor.")]
    elif bf:
        lines += ["", f"Backfill: {bf.get('note', 'n/a')}"]

    fr = res["freshness"]
    lines += ["", "## Freshness (write -> refresh -> visible in every view)", "",
              ("The views are exact as of the last `devdiag.refresh_rollups()`: a write shows once a refresh ran after "
              "it (the sync runs one before it exits)."), "",
              "| path | write | refresh | visible everywhere (from the write's start) | at the first look |",
              "|---|---:|---:|---:|---|",
              (f"| one INSERT by DevDiag (autocommit), then `CALL devdiag.refresh_rollups()` | "
              f"{fmt_ms(fr['insert_commit_ms'])} | {fmt_ms(fr['refresh_ms'])} | "
              f"{fmt_ms(fr['insert_visible_ms']) if fr['insert_visible_ms'] is not None else '**not within 5 s**'} | "
              f"{yes_no(fr['insert_visible_at_once'])} |"),
              (f"| one new run in a DevDiag store, one sync run (process start to exit) | {fmt_ms(fr['sync_wall_ms'])} | "
              f"in the sync | "
              f"{fmt_ms(fr['sync_visible_ms']) if fr['sync_visible_ms'] is not None else '**not within 5 s**'} | "
              f"{yes_no(fr['sync_visible_at_once'])} |"), "",
              (f"Refresh after a single run: {fmt_ms(fr['refresh_ms'])} ({fr['refresh_pending_ids']} ingest id(s) "
              f"pending, {fr['refresh_folded']} folded). Before the refresh the run was "
              f"{'already' if fr['insert_visible_before_refresh'] else 'not yet'} visible everywhere.")]
    bu = res.get("burst")
    if bu:
        folded = f"{bu['runs_folded']:,}" if bu["runs_folded"] is not None else "nothing (writers held on)"
        lines += ["", "## Refresh lag after a burst", "",
                  (f"{bu['runs_written']:,} runs of the biggest tenant written by one INSERT ... SELECT and committed, "
                  "then one `CALL devdiag.refresh_rollups()`."), "",
                  ("| runs written | INSERT + commit | pending ids | refresh | runs folded | refresh per run | "
                  "pending after |"),
                  "|---:|---:|---:|---:|---:|---:|---:|",
                  (f"| {bu['runs_written']:,} | {fmt_ms(bu['insert_commit_ms'])} | {bu['pending_ids']:,} | "
                  f"{fmt_ms(bu['refresh_ms'])} | {folded} | "
                  f"{bu['refresh_us_per_run']} µs | {bu['pending_ids_after']} |")]

    lines += ["", "## Queries (median; rollup-backed views vs v_ref_* views over raw runs)", "",
              f"Goal: median <= {GOAL_MS:.0f} ms, and >= {GOAL_RATIO:.0f}x faster wherever the reference takes > 1 s.",
              "", "| query | rollups | reference | ratio | same rows | goal met |", "|---|---:|---:|---:|---|---|"]
    for q in res["queries"]:
        ratio = f"{q['ratio']:,.0f}x" if q.get("ratio") else "n/a"
        note = f" ({q['note']})" if q.get("note") else ""
        lines.append(f"| {q['name']}{note} | {fmt_ms(q['rollup_median_ms'])} | {fmt_ms(q.get('ref_median_ms'))} | "
                     f"{ratio} | {yes_no(q.get('same_rows'))} | {verdict(q)} |")
    prom = res.get("prometheus")
    if prom:
        lines += ["", ("## Prometheus exporter queries (deployments/prometheus/queries.yaml; median of "
                  f"{max((q.get('runs') or 0) for q in prom)})"), "",
                  f"Goal: < {GOAL_PROMETHEUS_MS:.0f} ms per scrape query.", "",
                  "| query | median | goal met |", "|---|---:|---|"]
        for q in prom:
            cached = f" (cached {q['cache_seconds']} s between scrapes)" if q.get("cache_seconds") else ""
            note = f" ({q['note']})" if q.get("note") else ""
            ok = None if q["median_ms"] is None else q["median_ms"] < GOAL_PROMETHEUS_MS
            lines.append(f"| {q['name']}{cached}{note} | {fmt_ms(q['median_ms'])} | {yes_no(ok)} |")

    ar = res["archive"]
    lines += ["", "## A UTC day: archive (DETACH/ATTACH) and purge (DETACH), one transaction each", "",
              (f"Goal: < {GOAL_DAY_MS:.0f} ms each. The refresh after the purge takes the day's runs out of the "
               "rollups (it replays the episodes of the day's targets up to now); shown apart, no goal."), ""]
    if ar.get("days"):
        lines += [("| day | runs in diag_run | runs in the day | archive | purge | refresh after the purge "
                   "| views unchanged by the archive | goal met |"), "|---|---:|---:|---:|---:|---:|---|---|"]
        for d in ar["days"]:
            ok = d["archive_ms"] < GOAL_DAY_MS and d["purge_ms"] < GOAL_DAY_MS
            lines.append(f"| {d['kind']}: {d['day']} | {d['table_runs']:,} | {d['runs_moved']:,} | "
                         f"{fmt_ms(d['archive_ms'])} | {fmt_ms(d['purge_ms'])} | "
                         f"{fmt_ms(d.get('refresh_after_purge_ms'))} | {yes_no(d['views_unchanged'])} | "
                         f"{yes_no(ok)} |")
    else:
        lines.append(ar.get("note", ""))
    tm = res["timings"]
    lines += ["", (f"Phases: generate {tm['generate_s']:.0f} s, sync {ing['wall_s']:.0f} s, "
              f"VACUUM (ANALYZE) {tm['vacuum_s']:.0f} s, "
              f"backfill {tm.get('backfill_s', 0):.0f} s (migrate and dumps included), queries {tm['queries_s']:.0f} s."),
              ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    import signal

    # a stopped bench still stops its server (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10_000_000)
    ap.add_argument("--tenants", type=int, default=20)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--reps", type=int, default=9, help="timed runs per query on the rollups (median)")
    ap.add_argument("--ref-reps", type=int, default=3, help="timed runs per reference query (one when > 10 s)")
    ap.add_argument("--ref-timeout", type=int, default=60, help="seconds before a reference query is given up")
    ap.add_argument("--refresh-workers", type=int, default=2,
                    help="connections the backfill's refresh folds on, one set of tenants each (default 2)")
    ap.add_argument("--store", help="SQLite store to reuse (or create, with --keep)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the generated store and the server's data (the server is stopped)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"), help="folder for latest.md and latest.json")
    args = ap.parse_args(argv)

    import psycopg
    from psycopg import sql

    from .migrate import Migrator

    res = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
           "load_avg_start": round(os.getloadavg()[0], 2), "timings": {}}
    work = Path(tempfile.mkdtemp(prefix="devdiag-bench-"))
    store = Path(args.store) if args.store else work / "devdiag.db"
    if args.store and not store.exists():
        store.parent.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    t = time.monotonic()
    if store.exists():
        say(f"reusing {store}")
        lite = sqlite3.connect(store)
        generated = lite.execute("SELECT count(*) FROM diag_run").fetchone()[0]
        lite.close()
    else:
        say(f"generating {args.runs:,} runs into {store}")
        generated = make_store(store, args, now)
    res["timings"]["generate_s"] = round(time.monotonic() - t, 1)

    bindir = find_bindir()
    base = LocalCluster.base_dir(f"bench-{os.getpid()}")
    cluster = LocalCluster(base / "data", bindir, free_port(), base)
    cluster.settings = dedicated_memory_settings()
    cluster.cron_database = "devdiag_bench_cron"
    res["server"] = server_version(bindir)
    res["server_settings"] = dict(cluster.settings, fsync="off", synchronous_commit="off")
    try:
        dsn = cluster.ensure_running()
        postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
        with open(os.devnull, "w") as quiet, Migrator(dsn, out=quiet) as mig:
            mig.apply()
        say("migrated; syncing the store")
        res["ingest"] = run_sync(store, dsn, "bench", postmaster)
        say(f"ingest: {res['ingest']['runs_per_s']:,} runs/s; the floor (one COPY into an empty copy of diag_run)")
        with psycopg.connect(dsn, autocommit=True) as conn:
            t = time.monotonic()
            # What autovacuum would have done by then (only the warehouse's tables, the owner's). Done before
            # the floor and the backfill: autovacuum workers busy with the synced runs would otherwise share
            # the CPUs with them, and count in the cluster's CPU time.
            for schema, table in conn.execute(
                    "SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                    "WHERE n.nspname IN ('devdiag', 'devdiag_rollup') AND c.relkind IN ('r', 'p') "
                    "ORDER BY 1, 2").fetchall():
                conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, table)))
            res["timings"]["vacuum_s"] = round(time.monotonic() - t, 1)
            with psycopg.connect(cluster.superuser_dsn(), autocommit=True) as su:
                su.execute("CHECKPOINT")
            res["floor"] = ingest_floor(conn, work, postmaster)
            say(f"floor: {res['floor']['runs_per_s']:,} runs/s; pgloader, where installed")
            res["pgloader"] = pgloader_reference(cluster, store, work, postmaster, res["floor"])
            say("backfill (COPY + refresh) into a fresh database")
            t = time.monotonic()
            res["backfill"] = backfill(conn, cluster, work, postmaster, res["floor"], args.refresh_workers)
            res["timings"]["backfill_s"] = round(time.monotonic() - t, 1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            res["scale"] = {"runs_generated": generated, "days": args.days, "tenants": args.tenants, "seed": args.seed,
                            "fix_outcomes": conn.execute("SELECT count(*) FROM devdiag.fix_outcome").fetchone()[0],
                            "episodes": conn.execute("SELECT count(*) FROM devdiag_rollup.rollup_ttr_episode").fetchone()[0]}
            tenant, problem = conn.execute(
                """SELECT t.tenant, (SELECT p.problem_code FROM devdiag_rollup.rollup_problem_total AS p
                                     WHERE p.tenant = t.tenant ORDER BY p.total_runs DESC LIMIT 1)
                   FROM devdiag_rollup.rollup_tenant_total AS t ORDER BY t.runs DESC LIMIT 1""").fetchone()
            res["filters"] = {"tenant": tenant, "problem": problem}
            say("freshness")
            res["freshness"] = freshness(conn, dsn, work, postmaster)
            say(f"refresh after a burst of {BURST_RUNS:,} runs")
            res["burst"] = refresh_after_burst(conn, tenant)
        with psycopg.connect(dsn) as conn:
            conn.autocommit = True
            t = time.monotonic()
            res["queries"] = []
            for path in sorted(QUERIES_DIR.glob("*.sql")):
                say(f"query {path.name}")
                res["queries"].append(measure_file(dsn, path, args.reps, args.ref_reps, args.ref_timeout, work))
            for q in dashboard_queries(tenant, problem):
                say(f"query {q['name']}")
                res["queries"].append(measure(conn, q, args.reps, args.ref_reps, args.ref_timeout))
            res["timings"]["queries_s"] = round(time.monotonic() - t, 1)
            say("Prometheus exporter queries")
            res["prometheus"] = prometheus_queries(conn)
        with psycopg.connect(dsn) as conn:
            say("archiving and purging a typical day and the busiest day")
            res["archive"] = archive_days(conn, args.days)
    finally:
        if args.keep:
            # kept, not left running: an idle server still holds its shared memory
            # and would share the machine with the next measurement
            cluster.stop()
            say(f"kept the server's data in {cluster.datadir} (stopped; pg_ctl -D <that folder> start "
                f"serves it again on port {cluster.port}) and the store in {store}")
        else:
            cluster.destroy()
        if args.keep and store.parent == work:
            # the generated store is what was asked to be kept; the rest of the folder is scratch
            for path in work.iterdir():
                if path.is_dir():
                    shutil.rmtree(path)
                elif not path.name.startswith(store.name):  # the store, and its -wal and -shm
                    path.unlink()
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["load_avg_end"] = round(os.getloadavg()[0], 2)
    res["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = render(res)
    (out / "latest.md").write_text(text + "\n", encoding="utf-8")
    (out / "latest.json").write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
