"""The archive-move note of the rollup trigger cannot be used by a writer to skew the rollups.

``devdiag.rollup_runs_trigger`` passes one fact from the DELETE half of an
archive move to the INSERT half through the transaction-local setting
``devdiag.rollup_moved``. Any session can set a custom setting, so a writer
can forge the note. These tests act as that writer: the forged note is
ignored for runs inserted into ``diag_run`` (only an INSERT into the archive
consults it, and a writer may neither insert there nor run the archive
functions), and every view still equals its raw-data reference.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from rollup_support import mismatches

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
    "SELECT devdiag.archive_runs_batch(10, now())",
    "INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, problems, evidence) "
    "VALUES (1, now(), 'acme', repeat('a', 64), '[]', '{}')",
])
def test_a_writer_cannot_make_the_archive_insert_that_reads_the_note(pg, fresh_db, writer_login, stmt):
    with psycopg.connect(pg.dsn(fresh_db), user=writer_login) as w:
        w.execute("SET devdiag.rollup_moved = '1:00000000000000000000000000000000'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            w.execute(stmt)
