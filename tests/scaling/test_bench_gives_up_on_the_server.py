"""make bench gives up a slow reference query on the server too, so it holds no lock afterwards."""

from __future__ import annotations

import time

import psycopg
import pytest

from devdiag_warehouse import bench


def test_a_query_given_up_stops_on_the_server(pg, fresh_db, tmp_path):
    slow = tmp_path / "slow.sql"
    slow.write_text("SELECT count(*) FROM devdiag.diag_run, pg_sleep(30);\n")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="statement timeout") as given_up:
        bench.psql_run(pg.dsn(fresh_db), slow, 1, 1)
    # reported by its ERROR line, without psql's prefix (the file's scratch path)
    assert str(given_up.value).startswith("ERROR:") and str(tmp_path) not in str(given_up.value)
    assert time.monotonic() - started < 20
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(30)%%' "
                            "AND pid <> pg_backend_pid()").fetchone()[0]
        assert left == 0
        # and the run table can be locked at once, as the archive's DETACH needs
        conn.execute("SET lock_timeout = '1s'")
        with conn.transaction():
            conn.execute("LOCK TABLE devdiag.diag_run IN ACCESS EXCLUSIVE MODE")


def test_a_reference_whose_rows_run_is_given_up_is_reported_not_compared(pg, fresh_db, tmp_path):
    """A reference that answers within the timeout once and not the next time (the run that fetches its rows)
    is reported as failed: its missing rows are not compared with the query's, and the bench goes on."""
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE public.bench_probe_runs")
    query = tmp_path / "q.sql"
    # psql_run runs a file to time it, then once more for its rows: runs 1 to 4 are the
    # query's (warm-up, timed), 5 and 6 the reference's
    query.write_text("SELECT count(*) FROM devdiag.v_problem_counts, "
                     "pg_sleep(CASE WHEN nextval('public.bench_probe_runs') = 6 THEN 30 ELSE 0 END);\n")
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()
    out = bench.measure_file(pg.dsn(fresh_db), query, 1, 1, 1, work)
    assert time.monotonic() - started < 20
    assert out["rollup_median_ms"] >= 0
    assert out["same_rows"] is None
    assert out["note"].startswith("reference failed: ERROR:") and "statement timeout" in out["note"]
