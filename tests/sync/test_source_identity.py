"""A direct writer cannot forge a synced run's origin: source identity and the
sync's own state are written by devdiag_syncer alone, so a forged run can never
make the sync skip the real one."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from tests.sync.sync_support import digest, query, run_row


@pytest.fixture
def logins(pg, warehouse):
    """A DevDiag writer login and the sync's login on the test warehouse."""
    dbname = warehouse.split("/")[3].split("?")[0]
    tag = uuid.uuid4().hex[:8]
    names = {"writer": f"forger_{tag}", "sync": f"syncer_{tag}"}
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE devdiag_writer").format(sql.Identifier(names["writer"])))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE devdiag_syncer").format(sql.Identifier(names["sync"])))
    yield {k: pg.dsn(dbname, v) for k, v in names.items()}
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        for name in names.values():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


FORGERIES = [
    ("a run carrying the store's next identity",
     "INSERT INTO devdiag.diag_run (tenant, target_hash, problems, preset, source_id, source_run_id) "
     "VALUES ('acme', repeat('ab', 32), '[]', 'app', %(source)s, 4)"),
    ("a run carrying only a source id",
     "INSERT INTO devdiag.diag_run (tenant, target_hash, source_id) VALUES ('acme', repeat('ab', 32), %(source)s)"),
    ("moving the store's watermark past its next run",
     "UPDATE devdiag.sync_source SET run_watermark = 4, run_high_water = 4 WHERE id = %(source)s"),
    ("filing the next run as a reject",
     "INSERT INTO devdiag.sync_reject (tenant, source_id, table_name, sqlite_id, raw_row, reason) "
     "VALUES ('acme', %(source)s, 'diag_run', 4, '{}', 'forged')"),
    ("claiming the store reported more support",
     "INSERT INTO devdiag.fix_outcome_source (tenant, source_id, problem_code, fix_code, support, confidence, "
     "sqlite_id, first_credited_at, last_credited_at) "
     "VALUES ('acme', %(source)s, 'P', 'F', 99, 1, 1, now(), now())"),
]


@pytest.mark.parametrize("what, stmt", FORGERIES, ids=[f[0] for f in FORGERIES])
def test_a_direct_writer_cannot_forge_the_syncs_identity_or_state(store, warehouse, sync, logins, what, stmt):
    """The forgery is refused; the store's next run then lands through the sync with its real content."""
    s = store()
    s.add_runs([run_row(i) for i in range(3)])
    sync(s, logins["sync"], "--quiet")
    (source,), = query(warehouse, "SELECT id FROM devdiag.sync_source")
    with psycopg.connect(logins["writer"]) as forger:
        # the writer's own contract still works
        forger.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset)
                          VALUES (now(), 'acme', repeat('cd', 32), 'env-1', '["CSP"]', '{}', 'embed')""")
        forger.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            forger.execute(stmt, {"source": source})
    s.add_runs([run_row(3, tenant="acme", target=digest("the real run"))])
    res = sync(s, logins["sync"], "--quiet")
    assert "1 landed" in res.stdout
    assert query(warehouse, """SELECT source_run_id, target_hash FROM devdiag.diag_run
                               WHERE source_id IS NOT NULL ORDER BY 1""")[-1] == (4, digest("the real run"))
    assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run WHERE source_id IS NULL") == [(1,)]
