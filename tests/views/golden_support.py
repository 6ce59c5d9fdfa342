"""Golden files for the contract views, shared by the tests and tests/views/regen_golden.py.

Seeds live in ``tests/views/seeds/<concern>/`` and hold only the columns the
views read (lines starting with ``#`` are comments):

* ``diag_run.csv``: any of ``ts, tenant, target_hash, env_fp, preset,
  problems, archived``.  ``ts`` carries an explicit UTC offset; ``problems``
  is codes separated by spaces (duplicates kept, empty means none); an empty
  ``env_fp`` or ``preset`` is NULL; ``archived`` = ``yes`` moves the row to
  ``diag_run_archive`` after loading, the way retention does.  Rows are
  inserted in file order, so a file out of ts order is out-of-order arrival.
* ``fix_outcome.csv``: any of ``ts, tenant, problem_code, fix_code,
  confidence, support, env_fp``.

``tests/views/scenarios.yaml`` names, per scenario, the seed folders, the
session TimeZone and the views it covers; ``tests/views/expected/`` holds one
``<view>__<scenario>.csv`` per pair.

The clock: seeds are written as if the current UTC day were ``SEED_TODAY``.
The loader moves every timestamp by the whole days between ``SEED_TODAY`` and
the UTC day of ``now()``, and rendering moves dates and timestamps back, so
``runs_7d``, ``age_days`` and ``v_recent_activity`` are deterministic and a
UTC midnight in a seed stays a UTC midnight.  Because ``now()`` may be at any
time of its day, a seed may not fall after ``SEED_TODAY`` 00:00 nor strictly
inside the day that begins seven days earlier (the loader refuses both).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from psycopg import sql
from psycopg.types.json import Jsonb

HERE = Path(__file__).resolve().parent
SEEDS_DIR = HERE / "seeds"
EXPECTED_DIR = HERE / "expected"
SCENARIOS_FILE = HERE / "scenarios.yaml"

SEED_TODAY = dt.date(2024, 6, 15)
UTC = dt.timezone.utc
NULL = "\\N"

# Explicit columns and a full ORDER BY per contract view; text sorts bytewise
# (COLLATE "C") so the order is the same on every server locale.
VIEW_QUERIES: dict[str, str] = {
    "v_problem_counts": """
        SELECT day, tenant, problem_code, runs
        FROM devdiag.v_problem_counts
        ORDER BY day, tenant COLLATE "C", problem_code COLLATE "C"
    """,
    "v_fix_success": """
        SELECT tenant, problem_code, fix_code, successes, avg_confidence, last_success
        FROM devdiag.v_fix_success
        ORDER BY tenant COLLATE "C", problem_code COLLATE "C", fix_code COLLATE "C"
    """,
    "v_fix_ranking": """
        SELECT tenant, problem_code, rank, fix_code, successes, avg_confidence
        FROM devdiag.v_fix_ranking
        ORDER BY tenant COLLATE "C", problem_code COLLATE "C", rank, fix_code COLLATE "C"
    """,
    "v_env_diversity": """
        SELECT tenant, problem_code, unique_environments, total_runs
        FROM devdiag.v_env_diversity
        ORDER BY tenant COLLATE "C", problem_code COLLATE "C"
    """,
    "v_recent_activity": """
        SELECT tenant, target_hash, ts, problem_count, problems, preset
        FROM devdiag.v_recent_activity
        ORDER BY tenant COLLATE "C", target_hash COLLATE "C", ts, problems COLLATE "C", preset COLLATE "C"
    """,
    "v_ttr_days": """
        SELECT tenant, problem_code, target_hash, first_seen_day, first_zero_day, ttr_days, ttr_hours,
               started_at, resolved_at, preset
        FROM devdiag.v_ttr_days
        ORDER BY tenant COLLATE "C", problem_code COLLATE "C", target_hash COLLATE "C", started_at
    """,
    "v_open_problems": """
        SELECT tenant, target_hash, problem_code, started_at, last_seen, age_days, preset
        FROM devdiag.v_open_problems
        ORDER BY tenant COLLATE "C", target_hash COLLATE "C", problem_code COLLATE "C"
    """,
    "v_tenant_health": """
        SELECT tenant, runs_7d, active_problems, fix_success_rate, avg_ttr_days, problem_runs, successes
        FROM devdiag.v_tenant_health
        ORDER BY tenant COLLATE "C"
    """,
    "v_tenant_daily": """
        SELECT day, tenant, runs, problem_runs, targets, episodes_resolved, ttr_days_resolved
        FROM devdiag.v_tenant_daily
        ORDER BY day, tenant COLLATE "C"
    """,
    "v_episode_days": """
        SELECT tenant, problem_code, first_seen_day, first_zero_day, is_open, ttr_days, episodes, recurrences
        FROM devdiag.v_episode_days
        ORDER BY tenant COLLATE "C", problem_code COLLATE "C", first_seen_day, first_zero_day NULLS LAST
    """,
    "v_recurrence_days": """
        SELECT tenant, problem_code, first_seen_day, episodes, recurrences, since_previous
        FROM devdiag.v_recurrence_days
        ORDER BY tenant COLLATE "C", problem_code COLLATE "C", first_seen_day
    """,
    # The one-day blocks only: where longer blocks start depends on the clock shift of the scenario (their
    # alignment to 1970-01-01); the reference tests hold those. ttr_counts as its non-zero buckets,
    # "bucket:episodes" (128 elements are unreadable in a diff).
    "v_ttr_blocks": """
        SELECT tenant, problem_code, block_start, episodes, ttr_days_sum,
               (SELECT string_agg((u.k - 1) || ':' || u.n, ' ' ORDER BY u.k)
                FROM unnest(ttr_counts) WITH ORDINALITY AS u (n, k) WHERE u.n <> 0) AS buckets
        FROM devdiag.v_ttr_blocks
        WHERE block_days = 1
        ORDER BY tenant COLLATE "C", problem_code COLLATE "C", block_start
    """,
}

RUN_COLUMNS = {"ts", "tenant", "target_hash", "env_fp", "preset", "problems", "archived"}
FIX_COLUMNS = {"ts", "tenant", "problem_code", "fix_code", "confidence", "support", "env_fp"}
# The columns a move to the archive carries (the contract columns of a run).
MOVED_COLUMNS = ["id", "ts", "tenant", "target_hash", "env_fp", "problems", "evidence", "preset"]


class SeedError(ValueError):
    """A seed file breaks the rules above."""


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    seeds: tuple[str, ...]
    timezone: str
    views: tuple[str, ...]


def scenarios() -> dict[str, Scenario]:
    raw = yaml.safe_load(SCENARIOS_FILE.read_text(encoding="utf-8"))
    out = {}
    for name, spec in raw.items():
        unknown = set(spec["views"]) - set(VIEW_QUERIES)
        if unknown:
            raise SeedError(f"scenario {name}: unknown views {sorted(unknown)}")
        out[name] = Scenario(name, spec["about"].strip(), tuple(spec["seeds"]), spec["timezone"],
                             tuple(spec["views"]))
    return out


def seed_concerns() -> list[str]:
    return sorted(p.name for p in SEEDS_DIR.iterdir() if p.is_dir())


# -- reading seeds ------------------------------------------------------------

def read_seed(path: Path, allowed: set[str]) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")]
    rows = list(csv.DictReader(lines))
    header = set(rows[0]) if rows else set()
    if header - allowed:
        raise SeedError(f"{path}: unknown columns {sorted(header - allowed)}")
    return rows


def parse_ts(text: str, where: str) -> dt.datetime:
    ts = dt.datetime.fromisoformat(text)
    if ts.tzinfo is None:
        raise SeedError(f"{where}: timestamp {text!r} has no UTC offset")
    return ts


def check_clock(ts: dt.datetime, where: str) -> None:
    today = dt.datetime.combine(SEED_TODAY, dt.time(), UTC)
    edge = today - dt.timedelta(days=7)
    if ts > today:
        raise SeedError(f"{where}: {ts} is after {SEED_TODAY} 00:00 UTC, possibly in the future")
    if edge < ts < edge + dt.timedelta(days=1):
        raise SeedError(f"{where}: {ts} is inside the day the 7-day window's edge crosses")


def run_rows(concerns: list[str] | tuple[str, ...]) -> list[dict]:
    out = []
    for concern in concerns:
        path = SEEDS_DIR / concern / "diag_run.csv"
        if not path.exists():
            continue
        for i, raw in enumerate(read_seed(path, RUN_COLUMNS), start=1):
            where = f"{path.relative_to(HERE)} row {i}"
            row = {"tenant": raw["tenant"], "target_hash": raw["target_hash"],
                   "ts": parse_ts(raw["ts"], where)}
            check_clock(row["ts"], where)
            for col in ("env_fp", "preset"):
                if col in raw:
                    row[col] = raw[col] or None
            if "problems" in raw:
                row["problems"] = raw["problems"].split()
            if raw.get("archived", "") not in ("", "yes"):
                raise SeedError(f"{where}: archived is 'yes' or empty")
            row["archived"] = raw.get("archived") == "yes"
            out.append(row)
    return out


def fix_rows(concerns: list[str] | tuple[str, ...]) -> list[dict]:
    out = []
    for concern in concerns:
        path = SEEDS_DIR / concern / "fix_outcome.csv"
        if not path.exists():
            continue
        for i, raw in enumerate(read_seed(path, FIX_COLUMNS), start=1):
            where = f"{path.relative_to(HERE)} row {i}"
            row = {k: v for k, v in raw.items() if k in ("tenant", "problem_code", "fix_code")}
            if "ts" in raw:
                row["ts"] = parse_ts(raw["ts"], where)
                check_clock(row["ts"], where)
            if "confidence" in raw:
                row["confidence"] = float(raw["confidence"])
            if "support" in raw:
                row["support"] = int(raw["support"])
            if "env_fp" in raw:
                row["env_fp"] = raw["env_fp"] or None
            out.append(row)
    return out


# -- loading ------------------------------------------------------------------

def insert(conn, table: str, row: dict) -> int | None:
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier("devdiag", table),
        sql.SQL(", ").join(sql.Identifier(c) for c in row),
        sql.SQL(", ").join(sql.Placeholder() for _ in row),
    )
    return conn.execute(query, list(row.values())).fetchone()[0]


def move_to_archive(conn, ids: list[int]) -> None:
    """Move runs to diag_run_archive in one statement, as retention does."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in MOVED_COLUMNS)
    conn.execute(
        sql.SQL("WITH moved AS (DELETE FROM devdiag.diag_run WHERE id = ANY(%s) RETURNING {cols}) "
                "INSERT INTO devdiag.diag_run_archive ({cols}) SELECT {cols} FROM moved").format(cols=cols),
        (ids,),
    )


def clock_shift(conn) -> int:
    """Whole days between SEED_TODAY and the UTC day of now() in this transaction."""
    return conn.execute("SELECT devdiag.utc_day(now()) - %s::date", (SEED_TODAY,)).fetchone()[0]


def set_timezone(conn, tz: str) -> None:
    conn.execute("SELECT set_config('TimeZone', %s, true)", (tz,))


def load(conn, concerns, order: str = "file", archive: str = "seed") -> int:
    """Insert the seeds of ``concerns``; return the clock shift in days.

    ``order``: ``file`` (as written), ``ts`` (time order) or ``reverse`` (file order reversed);
    ``archive``: ``seed`` (rows marked archived), ``all`` or ``none``.
    """
    shift = dt.timedelta(days=clock_shift(conn))
    runs = run_rows(concerns)
    if order == "ts":
        runs = sorted(runs, key=lambda r: r["ts"])
    elif order == "reverse":
        runs = runs[::-1]
    elif order != "file":
        raise ValueError(order)
    to_archive = []
    for run in runs:
        row = {k: v for k, v in run.items() if k != "archived"}
        row["ts"] = row["ts"].astimezone(UTC) + shift
        if "problems" in row:
            row["problems"] = Jsonb(row["problems"])
        run_id = insert(conn, "diag_run", row)
        if archive == "all" or (archive == "seed" and run["archived"]):
            to_archive.append(run_id)
    if to_archive:
        move_to_archive(conn, to_archive)
    for fix in fix_rows(concerns):
        row = dict(fix)
        if "ts" in row:
            row["ts"] = row["ts"].astimezone(UTC) + shift
        insert(conn, "fix_outcome", row)
    conn.execute("CALL devdiag.refresh_rollups()")
    return shift.days


# -- rendering ----------------------------------------------------------------

def render(value, shift_days: int) -> str:
    """One cell: NULL as \\N, instants in UTC, dates and instants moved back to the seed clock."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        # to UTC first: arithmetic on a zone-aware datetime keeps wall-clock time across DST
        return (value.astimezone(UTC) - dt.timedelta(days=shift_days)).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return (value - dt.timedelta(days=shift_days)).isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, Decimal, str)):
        return str(value)
    return json.dumps(value, sort_keys=True)


def query_view(conn, view: str, shift_days: int) -> list[list[str]]:
    """Header and rendered rows of one contract view."""
    cur = conn.execute(VIEW_QUERIES[view])
    header = [d.name for d in cur.description]
    return [header] + [[render(v, shift_days) for v in row] for row in cur.fetchall()]


def run_scenario(conn, scenario: Scenario, views=None, **load_kw) -> dict[str, list[list[str]]]:
    """Pin the scenario's TimeZone, load its seeds and query ``views`` (default: its own)."""
    set_timezone(conn, scenario.timezone)
    shift = load(conn, scenario.seeds, **load_kw)
    return {v: query_view(conn, v, shift) for v in (views or scenario.views)}


# -- golden files ---------------------------------------------------------------

def expected_path(view: str, scenario: str) -> Path:
    return EXPECTED_DIR / f"{view}__{scenario}.csv"


def split_name(path: Path) -> tuple[str, str]:
    view, sep, scenario = path.stem.partition("__")
    if not sep:
        raise SeedError(f"{path.name}: expected <view>__<scenario>.csv")
    return view, scenario


def to_csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def read_expected(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def regenerate(conn) -> tuple[list[Path], list[Path]]:
    """Write every (view, scenario) golden file from the current views; remove files no scenario makes.

    Each scenario runs in a transaction that is rolled back.
    """
    EXPECTED_DIR.mkdir(exist_ok=True)
    written = []
    for scenario in scenarios().values():
        with conn.transaction(force_rollback=True):
            results = run_scenario(conn, scenario)
        for view, rows in results.items():
            path = expected_path(view, scenario.name)
            path.write_text(to_csv(rows), encoding="utf-8")
            written.append(path)
    stale = [p for p in sorted(EXPECTED_DIR.glob("*.csv")) if p not in written]
    for p in stale:
        p.unlink()
    return written, stale


# -- session zones ----------------------------------------------------------------

def zone_with_dst_start(now_utc: dt.datetime, days_ago: int = 3) -> str:
    """A POSIX TimeZone whose clocks spring forward about ``days_ago`` days before ``now_utc``.

    In such a session ``now() - interval '7 days'`` spans only 167 hours (interval
    days follow the session's wall clock), which is what a window defined in
    hours must not do.  ``Jn`` counts days 1..365 and never Feb 29.
    """
    day = (now_utc - dt.timedelta(days=days_ago)).date()
    if (day.month, day.day) == (2, 29):
        day -= dt.timedelta(days=1)
    n = day.timetuple().tm_yday
    if day.month > 2 and day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0):
        n -= 1
    end = (n + 180 - 1) % 365 + 1
    return f"XST5XDT,J{n}/2,J{end}/2"
