"""A restore never leaves a half-restored database, carries every role the tenant
map names (a tenant group role), and never hands a dropped role's tenants to
another role of the cluster it lands in, whatever that role's OID or name."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from devdiag_warehouse import backup as backup_mod
from devdiag_warehouse import restore as restore_mod
from devdiag_warehouse.config import DevdiagError
from devdiag_warehouse.localdb import LocalCluster, find_bindir, free_port

WAREHOUSE_SCHEMAS = r"SELECT nspname FROM pg_namespace WHERE nspname = 'devdiag' OR nspname LIKE 'devdiag\_%' ORDER BY 1"


def test_a_restore_failing_midway_leaves_no_half_restored_database(pg, loaded_db, tmp_path):
    """pg_restore failing after the tables and data landed (at the first index): the database is empty again."""
    set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, quiet=True)
    target = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER devdiag").format(sql.Identifier(target)))
    try:
        with psycopg.connect(pg.superuser_dsn(target), autocommit=True) as conn:
            conn.execute("""CREATE FUNCTION public.no_space_left() RETURNS event_trigger LANGUAGE plpgsql AS
                            $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$""")
            conn.execute("""CREATE EVENT TRIGGER no_space_left ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
                            EXECUTE FUNCTION public.no_space_left()""")
        with pytest.raises(DevdiagError, match="No space left on device.*emptied again"):
            restore_mod.restore(set_dir, pg.dsn(target), quiet=True)
        with psycopg.connect(pg.superuser_dsn(target)) as conn:
            assert conn.execute(WAREHOUSE_SCHEMAS).fetchall() == []
            conn.execute("DROP EVENT TRIGGER no_space_left")
        # and the same backup then restores into it
        restore_mod.restore(set_dir, pg.dsn(target), quiet=True)
    finally:
        pg.drop(target)


@pytest.fixture
def other_cluster():
    """new_cluster(next_oid): a fresh, empty cluster (owner login devdiag) whose next OID is next_oid."""
    made = []

    def make(next_oid: int) -> LocalCluster:
        bindir = find_bindir()
        if not (bindir / "pg_resetwal").exists():
            pytest.skip(f"no pg_resetwal in {bindir}")
        base = LocalCluster.base_dir(f"test-other-{uuid.uuid4().hex[:8]}")
        local = LocalCluster(base / "data", bindir, free_port(), base)
        local.cron_database = "devdiag_no_cron"
        made.append(local)
        local.ensure_running()
        with psycopg.connect(local.superuser_dsn(), autocommit=True) as conn:
            conn.execute("ALTER ROLE devdiag CREATEDB CREATEROLE NOSUPERUSER")
        local.stop()
        local._run([bindir / "pg_resetwal", "-o", str(next_oid), "-D", local.datadir])
        local.start()
        return local

    yield make
    for local in made:
        local.destroy()


def test_restore_into_another_cluster_keeps_group_grants_and_gives_a_dropped_roles_tenants_to_nobody(
        pg, loaded_db, tmp_path, other_cluster):
    """A tenant granted to a group role (the README's tenants_emea) restores into a new cluster and its login
    reads it; a dropped role's grant reaches neither the new role that got its OID nor one that got its name."""
    tag = uuid.uuid4().hex[:8]
    group, login, gone = f"tenants_emea_{tag}", f"grafana_emea_{tag}", f"tableau_gone_{tag}"
    with psycopg.connect(pg.dsn(loaded_db), autocommit=True) as dba:
        tenant_a, tenant_b = [r[0] for r in dba.execute(
            "SELECT DISTINCT tenant FROM devdiag.diag_run ORDER BY 1 LIMIT 2").fetchall()]
        dba.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
        dba.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE devdiag_reader, {}").format(
            sql.Identifier(login), sql.Identifier(group)))
        dba.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE devdiag_reader").format(sql.Identifier(gone)))
        dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (group, tenant_a))
        dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (gone, tenant_b))
        gone_oid = dba.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (gone,)).fetchone()[0]
        dba.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(gone)))
    try:
        set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, quiet=True)
    finally:
        with psycopg.connect(pg.dsn(loaded_db), autocommit=True) as dba:
            dba.execute(sql.SQL("DROP ROLE {}, {}").format(sql.Identifier(login), sql.Identifier(group)))

    local = other_cluster(gone_oid)
    with psycopg.connect(local.superuser_dsn(), autocommit=True) as su:
        # The new cluster's next role gets the dropped role's OID.
        su.execute("CREATE ROLE oid_heir LOGIN")
        assert su.execute("SELECT oid FROM pg_roles WHERE rolname = 'oid_heir'").fetchone()[0] == gone_oid
    restore_mod.restore(set_dir, local.owner_dsn("restored"), create=True, quiet=True)
    with psycopg.connect(local.superuser_dsn("restored"), autocommit=True) as su:
        su.execute("GRANT devdiag_reader TO oid_heir")
        su.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE devdiag_reader").format(sql.Identifier(gone)))
        assert su.execute("SELECT grantee_name FROM devdiag.tenant_grant").fetchall() == [(group,)]

    def tenants_seen_by(role: str) -> list:
        dsn = f"postgresql://{role}@/restored?host={local.sockdir}&port={local.port}"
        with psycopg.connect(dsn) as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT tenant FROM devdiag.v_run_all ORDER BY 1")]

    assert tenants_seen_by(login) == [tenant_a]
    assert tenants_seen_by("oid_heir") == []
    assert tenants_seen_by(gone) == []


def test_restore_tries_sql_again_when_reapplying_it_deadlocks(pg, loaded_db, tmp_path):
    """Re-applying sql/ after the restore is rolled back by a deadlock (on a policy of
    200_tenant_row_security.sql) once: the restore tries again and completes."""
    set_dir = backup_mod.backup(pg.dsn(loaded_db), tmp_path, quiet=True)
    target = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER devdiag").format(sql.Identifier(target)))
    try:
        with psycopg.connect(pg.superuser_dsn(target), autocommit=True) as conn:
            # A sequence counts attempts across the rolled-back transaction; only sql/,
            # applied as devdiag_owner, is hit (pg_restore creates as the login).
            conn.execute("CREATE SEQUENCE public.policy_attempts")
            conn.execute("""CREATE FUNCTION public.deadlock_once() RETURNS event_trigger LANGUAGE plpgsql AS $$
                            BEGIN
                                IF current_user = 'devdiag_owner' AND nextval('public.policy_attempts') = 1 THEN
                                    RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected';
                                END IF;
                            END $$""")
            conn.execute("GRANT USAGE ON SEQUENCE public.policy_attempts TO PUBLIC")
            conn.execute("""CREATE EVENT TRIGGER deadlock_once ON ddl_command_end WHEN TAG IN ('CREATE POLICY')
                            EXECUTE FUNCTION public.deadlock_once()""")
        restore_mod.restore(set_dir, pg.dsn(target), quiet=True)
        with psycopg.connect(pg.superuser_dsn(target)) as conn:
            assert conn.execute("SELECT last_value FROM public.policy_attempts").fetchone()[0] >= 2
            assert conn.execute("SELECT count(*) FROM pg_policy WHERE polname = 'tenant_reader_select'"
                                ).fetchone()[0] > 0
            conn.execute("DROP EVENT TRIGGER deadlock_once")
    finally:
        pg.drop(target)
