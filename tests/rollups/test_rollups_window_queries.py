"""The analysts' window queries (sql/queries/3xx) return the rows of their raw-data form.

After random writes of every kind (late, re-sent and archived runs, purges,
deletes, fix outcomes), each window query file is run with psql, as analysts
run it, for several windows (the default, one ending in the past, one day)
and tenants, and compared with the same file rewritten onto the v_ref_*
views computed from raw runs (the rewrite make bench times). 330 and 340 count episodes from
v_episode_days, so this is what holds their day arithmetic to the episodes.
"""

from __future__ import annotations

import random
import subprocess
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from devdiag_warehouse.bench import as_reference
from devdiag_warehouse.localdb import find_bindir
from tests.rollups.rollup_support import mismatches
from tests.rollups.test_rollups_random import World

QUERIES = Path(__file__).resolve().parents[2] / "sql" / "queries"
FILES = sorted(p for p in QUERIES.glob("3*.sql"))


def psql(dsn: str, path: Path, variables: list[str]) -> list[str]:
    args = [str(find_bindir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for v in variables:
        args += ["-v", v]
    res = subprocess.run(args + ["-d", dsn, "-f", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 11])
def test_window_queries_equal_their_raw_form_after_random_writes(pg, fresh_db, tmp_path, seed):
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn, autocommit=True) as conn:
        world = World(conn, seed)
        for _ in range(45):
            world.step()
        conn.execute("CALL devdiag.refresh_rollups()")
        today = conn.execute("SELECT devdiag.utc_day(now())").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM devdiag.v_problem_episodes WHERE NOT is_open").fetchone()[0] > 0
        # the past window has episodes open at its end that were resolved later
        # (330 and 340 read those apart from the ones still open)
        assert conn.execute("SELECT count(*) FROM devdiag.v_episode_days WHERE first_seen_day <= %s "
                            "AND first_zero_day > %s", (today - timedelta(days=8),) * 2).fetchone()[0] > 0
    (tmp_path / "include").symlink_to(QUERIES / "include")
    windows = [
        [],
        [f"from={today - timedelta(days=20)}", f"to={today - timedelta(days=8)}"],
        [f"from={today - timedelta(days=3)}", f"to={today - timedelta(days=3)}"],
        ["tenant=globex", f"from={today - timedelta(days=15)}", f"to={today - timedelta(days=2)}"],
        ["tenant=O'Hara; --"],
    ]
    compared = 0
    for path in FILES:
        ref = tmp_path / f"ref_{path.name}"
        ref.write_text(as_reference(path.read_text()))
        assert ref.read_text() != path.read_text(), f"{path.name} reads no rollup-backed view"
        for variables in windows:
            got = psql(dsn, path, variables)
            want = psql(dsn, ref, variables)
            assert sorted(got) == sorted(want), f"{path.name} {variables}"
            compared += bool(want)
    assert compared >= len(FILES) * 3


def recurrence_from_episodes() -> str:
    """350's branch for long windows, for every window: the episodes themselves, distinct targets counted
    directly, over the raw-data views."""
    text = (QUERIES / "350_problem_recurrence.sql").read_text()
    head, branches = text.split("\\ir include/window_params.psql\n", 1)
    episodes = branches.split("UNION ALL\n", 1)[1]
    gate = "    AND :'to'::date - :'from'::date >= 92\n"
    assert gate in episodes
    return as_reference(head + "\\ir include/window_params.psql\n" + episodes.replace(gate, "", 1))


def episode(conn, tenant: str, name: str, code: str, start: datetime, end: datetime) -> None:
    """One episode of the code on the target: reported at start, cleared at end (same preset)."""
    conn.execute("SELECT devdiag.ensure_run_partitions(%s, %s)", (start, end))
    for ts, problems in ((start, f'["{code}"]'), (end, "[]")):
        conn.execute(
            """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
               VALUES (%s, %s, encode(sha256(%s::bytea), 'hex'), %s::jsonb, 'full')""",
            (ts, tenant, name, problems))


def recurring_target(conn, tenant: str, name: str, days_ago: list[int], code: str = "CSP_MISSING") -> None:
    """One episode of the code on the target for each day given: reported at 00:00 UTC, cleared at 00:01 (for
    today, at most a minute ahead of the clock: within the five minutes the warehouse accepts)."""
    today = conn.execute("SELECT devdiag.utc_day(now())").fetchone()[0]
    for d in days_ago:
        day = datetime.combine(today - timedelta(days=d), time(), timezone.utc)
        episode(conn, tenant, name, code, day, day + timedelta(minutes=1))


@pytest.mark.slow
def test_recurrence_counts_each_target_once_per_window_as_the_episodes_do(pg, fresh_db, tmp_path):
    """350 reads v_recurrence_days for windows of up to 92 days and the episodes beyond: both give what the
    episodes of the window give, at the 92-day edge, with previous episodes up to 200 days back, per tenant."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn, autocommit=True) as conn:
        recurring_target(conn, "acme", "a", [200, 100, 95, 60, 8, 3, 0])
        recurring_target(conn, "acme", "b", [93, 92, 91, 2])
        recurring_target(conn, "acme", "c", [120, 30], code="IFRAME_BLOCKED")
        recurring_target(conn, "globex", "a", [150, 91, 1, 0])
        recurring_target(conn, "globex", "d", [5])
        conn.execute("CALL devdiag.refresh_rollups()")
        assert mismatches(conn, refresh=False) == {}
        today = conn.execute("SELECT devdiag.utc_day(now())").fetchone()[0]
        gaps = conn.execute("SELECT max(since_previous[92]) FROM devdiag.v_recurrence_days "
                            "WHERE recurrences > 0").fetchone()[0]
        assert gaps > 0  # a recurrence 92 or more days after its previous episode
    (tmp_path / "include").symlink_to(QUERIES / "include")
    query = QUERIES / "350_problem_recurrence.sql"
    classic = tmp_path / "350_from_episodes.sql"
    classic.write_text(recurrence_from_episodes())

    def window(first_day_ago: int, last_day_ago: int) -> list[str]:
        return [f"from={today - timedelta(days=first_day_ago)}", f"to={today - timedelta(days=last_day_ago)}"]

    windows = [[], ["days=92"], ["days=93"], ["days=365"], window(100, 9), window(101, 10), window(92, 92),
               window(95, 4), window(96, 5), window(0, 0), ["tenant=globex", *window(91, 0)],
               ["tenant=acme", "days=92"]]
    compared = 0
    for variables in windows:
        got = psql(dsn, query, variables)
        assert got == psql(dsn, classic, variables), variables
        compared += bool(got)
    assert compared == len(windows)


def test_recurrence_reads_one_row_per_tenant_problem_and_day_for_windows_up_to_92_days(pg, fresh_db):
    """The rollup branch of 350 runs for a 92-day window and the episode branch only for a longer one."""
    dsn = pg.dsn(fresh_db)
    text = (QUERIES / "350_problem_recurrence.sql").read_text()
    body = text.split("\\ir include/window_params.psql", 1)[1]
    with psycopg.connect(dsn, autocommit=True) as conn:
        recurring_target(conn, "acme", "a", [3, 0])
        conn.execute("CALL devdiag.refresh_rollups()")
        today = conn.execute("SELECT devdiag.utc_day(now())").fetchone()[0]
        for days, reads_episodes in ((92, False), (93, True)):
            start = today - timedelta(days=days - 1)
            sql = (body.replace(":'from'", f"'{start}'").replace(":'to'", f"'{today}'")
                   .replace(":'window_start'", f"'{start} 00:00:00+00'")
                   .replace(":'window_end'", f"'{today + timedelta(days=1)} 00:00:00+00'")
                   .replace(":'tenant'", "''"))
            plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql)]
            def read(table: str) -> bool:
                return any(table in line and "never executed" not in line for line in plan)
            assert (read("rollup_ttr_episode"), read("rollup_recurrence_day")) == (
                reads_episodes, not reads_episodes), "\n".join(plan)


#: 320 as percentile_cont over every episode resolved in the window: what its histogram form must return
TTR_SUMMARY_FROM_EPISODES = """\\ir include/window_params.psql
SELECT
    coalesce(t.problem_code, '(all problems)') AS problem_code,
    count(*)::bigint AS episodes,
    round(avg(t.ttr_days), 2) AS avg_ttr_days,
    max(t.ttr_days) AS max_ttr_days,
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ttr_hours)::numeric, 2) AS median_ttr_hours,
    round(percentile_cont(0.9) WITHIN GROUP (ORDER BY t.ttr_hours)::numeric, 2) AS p90_ttr_hours
FROM devdiag.v_ttr_days AS t
WHERE
    t.resolved_at >= :'window_start'::timestamptz
    AND t.resolved_at < :'window_end'::timestamptz
    AND (:'tenant' = '' OR t.tenant = :'tenant')
GROUP BY GROUPING SETS ((t.problem_code), ())
ORDER BY grouping(t.problem_code) ASC, episodes DESC, problem_code ASC;
"""


@pytest.mark.slow
def test_ttr_summary_from_the_histogram_equals_percentiles_over_every_episode(pg, fresh_db, tmp_path):
    """320 finds each percentile's bucket in v_ttr_blocks and sorts only that bucket's episodes: for windows of
    one day to a year, aligned or not, per tenant, it returns what percentile_cont over every episode of the
    window returns, with times to resolve from seconds to months, ties, and short episodes that cross midnight
    (more ttr_days than longer ones)."""
    rng = random.Random(320)
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn, autocommit=True) as conn:
        today = conn.execute("SELECT devdiag.utc_day(now())").fetchone()[0]
        midnight = datetime(today.year, today.month, today.day, tzinfo=timezone.utc)
        n = 0
        for tenant in ("acme", "globex", "initech"):
            for code in ("CSP_MISSING", "IFRAME_BLOCKED", "OVERLAY"):
                for _ in range(rng.randint(15, 40)):
                    end = midnight - timedelta(days=rng.randint(0, 200), seconds=rng.randint(1, 86399))
                    ttr = rng.choice([timedelta(seconds=rng.randint(1, 59)), timedelta(minutes=rng.randint(1, 59)),
                                      timedelta(hours=rng.randint(1, 47)), timedelta(hours=30),
                                      timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 23))])
                    n += 1
                    episode(conn, tenant, f"t{n}", code, end - ttr, end)
        # 23:00 to 01:00 (2 hours, 1 day) against 00:30 to 20:30 the same day (20 hours, 0 days)
        day = midnight - timedelta(days=5)
        episode(conn, "acme", "night", "NIGHT", day - timedelta(hours=1), day + timedelta(hours=1))
        episode(conn, "acme", "day", "NIGHT", day + timedelta(minutes=30), day + timedelta(hours=20, minutes=30))
        conn.execute("CALL devdiag.refresh_rollups()")
        assert mismatches(conn, refresh=False) == {}
    (tmp_path / "include").symlink_to(QUERIES / "include")
    query = QUERIES / "320_ttr_summary.sql"
    classic = tmp_path / "320_from_episodes.sql"
    classic.write_text(TTR_SUMMARY_FROM_EPISODES)

    def window(first_day_ago: int, last_day_ago: int) -> list[str]:
        return [f"from={today - timedelta(days=first_day_ago)}", f"to={today - timedelta(days=last_day_ago)}"]

    windows = [[], ["days=1"], ["days=7"], ["days=64"], ["days=65"], ["days=365"], window(100, 9),
               window(37, 3), window(5, 5), window(130, 0), ["tenant=globex", *window(91, 0)],
               ["tenant=acme", "days=30"], window(400, 300)]
    compared = 0
    for variables in windows:
        got = psql(dsn, query, variables)
        assert got == psql(dsn, classic, variables), variables
        compared += "(all problems)|0|" not in got[-1]
    assert compared == len(windows) - 2  # nothing resolved today nor 300 to 400 days ago
    night = psql(dsn, query, window(5, 4))
    assert [r for r in night if r.startswith("NIGHT|")] == ["NIGHT|2|0.50|1|11.00|18.20"]
