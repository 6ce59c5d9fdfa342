"""The analysts' window queries (sql/queries/3xx) return the rows of their raw-data form.

After random writes of every kind (late, re-sent and archived runs, purges,
deletes, fix outcomes), each window query file is run with psql, as analysts
run it, for several windows (the default, one ending in the past, one day)
and tenants, and compared with the same file rewritten onto the v_ref_*
views computed from raw runs (the rewrite make bench times). 330 and 340 count episodes from
v_episode_days, so this is what holds their day arithmetic to the episodes.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from devdiag_warehouse.bench import as_reference
from devdiag_warehouse.localdb import find_bindir
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
