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
