"""The archive-move note of the rollup trigger cannot be used by a writer to skew the rollups.

``devdiag.rollup_runs_trigger`` passes one fact from the DELETE half of an
archive move to the INSERT half through the transaction-local setting
``devdiag.rollup_moved``. Any session can set a custom setting, so a writer
can forge the note. These tests act as that writer: the forged note is
ignored for runs inserted into ``diag_run`` (only an INSERT into the archive
consults it, and a writer may neither insert there nor run the archive
functions), and every view still equals its raw-data reference.

The retention job's own moves skip the rollups altogether: it moves whole
days by DETACH and ATTACH PARTITION, which fire no trigger. A transaction-id
setting that once marked the job's move statements is honoured nowhere: the
tests below check that a writer or a stale session setting it changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from tests.rollups.rollup_support import mismatches

TENANT = "acme"
TARGET = hashlib.sha256(b"note/target").hexdigest()
FORGED_NOTE = """
SELECT count(*)::text || ':' || md5(string_agg(format('%%L/%%s', t, i), ',' ORDER BY t, i))
FROM unnest(%s::text[], %s::bigint[]) AS u (t, i)
"""


@pytest.fixture
def writer_login(pg, fresh_db):
    name = f"t_note_writer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as dba:
        dba.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        dba.execute(sql.SQL("GRANT devdiag_writer TO {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as dba:
        dba.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_forged_move_note_does_not_skip_the_episodes_of_a_writers_runs(pg, fresh_db, writer_login):
    now = datetime.now(timezone.utc)
    ids = [101, 102, 103]
    with psycopg.connect(pg.dsn(fresh_db), user=writer_login) as w:
        note = w.execute(FORGED_NOTE, ([TENANT] * len(ids), ids)).fetchone()[0]
        # the fingerprint the trigger would compute for exactly these rows, set as a move note
        w.execute("SELECT set_config('devdiag.rollup_moved', %s, false)", (note,))
        with w.cursor() as cur:
            cur.executemany(
                "INSERT INTO devdiag.diag_run (id, ts, tenant, target_hash, problems, preset) "
                "VALUES (%s, %s, %s, %s, %s, 'app')",
                [(i, now - timedelta(hours=10 - n), TENANT, TARGET, Jsonb(["CSP"] if n < 2 else []))
                 for n, i in enumerate(ids)])
        w.commit()
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        assert owner.execute("SELECT count(*) FROM devdiag.v_ttr_episodes").fetchone() == (1,)
        assert mismatches(owner) == {}


@pytest.mark.parametrize("stmt", [
    "SELECT devdiag.archive_run_days(10, now())",
    "INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, problems, evidence) "
    "VALUES (1, now(), 'acme', repeat('a', 64), '[]', '{}')",
])
def test_a_writer_cannot_make_the_archive_insert_that_reads_the_note(pg, fresh_db, writer_login, stmt):
    with psycopg.connect(pg.dsn(fresh_db), user=writer_login) as w:
        w.execute("SET devdiag.rollup_moved = '1:00000000000000000000000000000000'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            w.execute(stmt)


def _seed_runs(conn, n_targets: int = 3) -> None:
    """A few targets whose runs open and close episodes, all older than a day."""
    now = datetime.now(timezone.utc)
    rows = []
    rid = 0
    for t in range(n_targets):
        target = hashlib.sha256(f"move/{t}".encode()).hexdigest()
        for h in range(6):
            rid += 1
            rows.append((rid, now - timedelta(days=3, hours=10 - h), TENANT, target,
                         Jsonb(["CSP", "XFO"] if h % 3 == 0 else (["CSP"] if h % 3 == 1 else []))))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devdiag.diag_run (id, ts, tenant, target_hash, problems, preset) "
            "VALUES (%s, %s, %s, %s, %s, 'app')", rows)


def test_a_writer_who_sets_the_move_id_still_gets_its_runs_counted(pg, fresh_db, writer_login):
    now = datetime.now(timezone.utc)
    with psycopg.connect(pg.dsn(fresh_db), user=writer_login) as w:
        w.execute("SELECT set_config('devdiag.rollup_move_xact', pg_current_xact_id()::text, true)")
        w.execute(
            "INSERT INTO devdiag.diag_run (id, ts, tenant, target_hash, problems, preset) "
            "VALUES (7, %s, %s, %s, '[\"CSP\"]', 'app')", (now, TENANT, TARGET))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            w.execute("DELETE FROM devdiag.diag_run")
        w.rollback()
        w.execute("SELECT set_config('devdiag.rollup_move_xact', pg_current_xact_id()::text, true)")
        w.execute(
            "INSERT INTO devdiag.diag_run (id, ts, tenant, target_hash, problems, preset) "
            "VALUES (7, %s, %s, %s, '[\"CSP\"]', 'app')", (now, TENANT, TARGET))
        w.commit()
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        assert owner.execute(
            "SELECT sum(runs) FROM devdiag.v_problem_counts WHERE tenant = %s", (TENANT,)).fetchone() == (1,)
        assert owner.execute("SELECT count(*) FROM devdiag.v_open_problems").fetchone() == (1,)
        assert mismatches(owner) == {}


def test_a_move_id_left_from_another_transaction_does_not_skip_a_delete(pg, fresh_db):
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        _seed_runs(owner)
        owner.commit()
        # set for the whole session, in an earlier transaction: its id never matches again
        owner.execute("SELECT set_config('devdiag.rollup_move_xact', pg_current_xact_id()::text, false)")
        owner.commit()
        owner.execute("DELETE FROM devdiag.diag_run WHERE id % 4 = 0")
        owner.commit()
        assert owner.execute("SELECT count(*) FROM devdiag.diag_run").fetchone() == (14,)
        assert mismatches(owner) == {}


def _view_rows(conn, views) -> dict[str, list]:
    return {v: conn.execute(f"SELECT * FROM devdiag.{v} ORDER BY 1, 2, 3").fetchall() for v in views}  # noqa: S608


def test_the_retention_move_takes_the_fast_path_and_changes_no_view(pg, fresh_db):
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        _seed_runs(owner)
        owner.commit()
        before = _view_rows(owner, ("v_problem_counts", "v_ttr_days", "v_open_problems", "v_problem_episodes"))
    with psycopg.connect(pg.superuser_dsn(fresh_db)) as su:
        su.execute("SET TimeZone = 'UTC'")
        su.execute("SET track_functions = 'all'")
        su.execute("SET ROLE devdiag")
        moved = su.execute("SELECT devdiag.archive_run_days(7, now() - interval '1 day')").fetchone()[0]
        calls = dict(su.execute(
            "SELECT funcname, calls FROM pg_stat_xact_user_functions WHERE schemaname = 'devdiag'").fetchall())
        su.commit()
    assert moved == 18
    # whole days moved by DETACH and ATTACH: no trigger fired, no count and no episode work
    assert calls.get("archive_run_day", 0) >= 1
    assert "rollup_runs_trigger" not in calls
    assert "rollup_count_runs" not in calls and "rollup_recompute_episodes" not in calls
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        assert owner.execute("SELECT count(*) FROM devdiag.diag_run_archive").fetchone() == (18,)
        assert owner.execute("SELECT count(*) FROM devdiag.diag_run").fetchone() == (0,)
        assert _view_rows(owner, before) == before
        assert mismatches(owner) == {}
        # and a DELETE by hand after the move is counted again
        owner.execute("DELETE FROM devdiag.diag_run_archive WHERE id = 1")
        owner.commit()
        assert mismatches(owner) == {}
