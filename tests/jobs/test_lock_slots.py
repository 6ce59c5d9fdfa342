"""Maintenance locks are rows only the owner's code can lock: a hostile login holding
every advisory key the warehouse once used stalls neither writers, nor the rollup refresh, nor retention."""

from __future__ import annotations

import psycopg
import pytest

#: (class, key) pairs the rollups, the partition maker and the day mover used as advisory keys, and the refresh's
OLD_KEYS = [(7236111, "hashtext('acme')"), (7236112, "'devdiag.diag_run'::regclass::oid::integer"),
            (7236112, "'devdiag.diag_run_archive'::regclass::oid::integer"), (7236113, "0"), (7236114, "0")]


@pytest.fixture
def hostile(pg, fresh_db):
    with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
        su.execute("DROP ROLE IF EXISTS hostile_locks")
        su.execute("CREATE ROLE hostile_locks LOGIN")
        su.execute("DROP ROLE IF EXISTS writer_locks")
        su.execute("CREATE ROLE writer_locks LOGIN IN ROLE devdiag_writer")
    try:
        with psycopg.connect(pg.dsn(fresh_db, "hostile_locks"), autocommit=True) as conn:
            yield conn
    finally:
        with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
            su.execute("DROP ROLE hostile_locks")
            su.execute("DROP ROLE writer_locks")


def test_a_hostile_login_holding_the_old_advisory_keys_does_not_stall_writers_or_retention(pg, fresh_db, hostile):
    """With every lock key held as an advisory key by an outsider, a writer's insert and refresh and the retention
    job finish at once."""
    with psycopg.connect(pg.dsn(fresh_db)) as owner:  # the outsider cannot name devdiag's tables itself
        keys = [(cls, owner.execute(f"SELECT {key}").fetchone()[0]) for cls, key in OLD_KEYS]
    for cls, key in keys:
        hostile.execute("SELECT pg_advisory_lock(%s, %s)", (cls, key))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        hostile.execute("SELECT FROM devdiag.lock_slot FOR UPDATE")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        hostile.execute("SELECT devdiag.take_lock(7236111, hashtext('acme'))")
    with psycopg.connect(pg.dsn(fresh_db, "writer_locks"), autocommit=True) as writer:
        writer.execute("SET statement_timeout = '10s'")
        writer.execute("INSERT INTO devdiag.diag_run (tenant, target_hash, ts, problems, preset) "
                       "VALUES ('acme', repeat('ab', 32), now() - interval '1 hour', '[\"CSP_X\"]', 'embed')")
        assert writer.execute("CALL devdiag.refresh_rollups('acme')").fetchone() == (1,)
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as owner:
        owner.execute("SET statement_timeout = '30s'")
        owner.execute("CALL devdiag.run_retention()")
        assert owner.execute("SELECT count(*) FROM devdiag_rollup.rollup_problem_total WHERE tenant = 'acme'"
                             ).fetchone()[0] >= 1


def test_refreshes_of_one_tenant_queue_on_its_rollup_lock_and_writers_do_not(pg, fresh_db):
    """A refresh of a tenant waits for another refresh of it to commit; writers of the tenant never wait for either."""
    dsn = pg.dsn(fresh_db)
    ins = ("INSERT INTO devdiag.diag_run (tenant, target_hash, ts, problems, preset) "
           "VALUES ('acme', repeat('cd', 32), now() - interval '2 hours', '[\"CSP_Y\"]', 'embed')")
    with psycopg.connect(dsn) as first, psycopg.connect(dsn, autocommit=True) as second, \
            psycopg.connect(dsn, autocommit=True) as writer:
        writer.execute(ins)
        first.execute("CALL devdiag.refresh_rollups('acme')")
        second.execute("SET lock_timeout = '500ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            second.execute("CALL devdiag.refresh_rollups('acme')")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            second.execute("CALL devdiag.refresh_rollups()")
        writer.execute("SET lock_timeout = '500ms'")
        writer.execute(ins)
        first.commit()
        assert second.execute("CALL devdiag.refresh_rollups()").fetchone() == (1,)
