"""The baseline's roles and maintenance under FORCE: roles created safely and
shared by the cluster's databases, the DBA login keeps migrating, rolling
back, running jobs and taking backups."""

from __future__ import annotations

import io
import os
import subprocess
import uuid

import psycopg
import pytest
from psycopg import sql

from devdiag_warehouse import migrate as migrate_mod
from devdiag_warehouse.config import DevdiagError
from devdiag_warehouse.localdb import find_bindir
from devdiag_warehouse.migrate import Migrator
from tests.policies.support import (
    GROUP_ROLES,
    HASHES,
    TENANT_A,
    TENANT_B,
    create_login,
    drop_role,
)

BASELINE_SQL = (migrate_mod.MIGRATIONS_DIR / f"{migrate_mod.BASELINE}.sql").read_text()
#: the baseline's first block: creates the five group roles and makes the login a member of devdiag_owner
ROLE_STEP = BASELINE_SQL[BASELINE_SQL.index("DO $$"):BASELINE_SQL.index("$$;", BASELINE_SQL.index("DO $$") + 5) + 3]


def run(dsn: str, command: str = "apply", **kw) -> str:
    out = io.StringIO()
    with Migrator(dsn, out=out) as m:
        getattr(m, command)(**kw)
    return out.getvalue()


def test_role_step_names_createrole_when_the_login_lacks_it(pg, fresh_db):
    """With a group role missing and no CREATEROLE, the step fails naming the privilege and the role."""
    login = f"t_sec_{uuid.uuid4().hex[:8]}_nocreaterole"
    hidden = f"t_sec_{uuid.uuid4().hex[:8]}_hidden_monitor"
    with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
        create_login(su, login, [])
        su.execute(sql.SQL("ALTER ROLE devdiag_monitor RENAME TO {}").format(sql.Identifier(hidden)))
        try:
            with psycopg.connect(pg.dsn(fresh_db), user=login) as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc:
                    conn.execute(ROLE_STEP)
            assert "CREATEROLE" in str(exc.value) and "devdiag_monitor" in str(exc.value)
            assert su.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'devdiag_monitor'").fetchone() == (0,)
        finally:
            su.execute(sql.SQL("ALTER ROLE {} RENAME TO devdiag_monitor").format(sql.Identifier(hidden)))
            drop_role(su, login)


def test_role_step_refuses_a_group_role_that_bypasses_row_security(pg, fresh_db):
    """A pre-existing group role with BYPASSRLS would hand it to every member through SET ROLE: refused."""
    with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
        su.execute("ALTER ROLE devdiag_monitor BYPASSRLS")
        try:
            with psycopg.connect(pg.dsn(fresh_db)) as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="devdiag_monitor"):
                    conn.execute(ROLE_STEP)
        finally:
            su.execute("ALTER ROLE devdiag_monitor NOBYPASSRLS")


def test_role_step_is_idempotent_where_the_roles_exist(db):
    """Another database of the cluster created the roles already: running the step again changes nothing."""
    before = db.execute("SELECT oid, rolname FROM pg_roles WHERE rolname = ANY (%s) ORDER BY 2", (GROUP_ROLES,)).fetchall()
    db.execute(ROLE_STEP)
    db.execute(ROLE_STEP)
    after = db.execute("SELECT oid, rolname FROM pg_roles WHERE rolname = ANY (%s) ORDER BY 2", (GROUP_ROLES,)).fetchall()
    assert before == after and len(after) == 5


def test_rollback_to_empty_keeps_the_roles_other_databases_use_and_leaves_none_in_use_here(pg, fresh_db, sec_db):
    """Rolling one database back to empty keeps the shared roles (other databases still need them), leaves no
    reference to them in that database, and the other databases keep working; migrate brings it all back."""
    dsn = pg.dsn(fresh_db)
    run(dsn, "rollback", all_steps=True)
    with psycopg.connect(pg.superuser_dsn(fresh_db)) as su:
        assert su.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY (%s)", (GROUP_ROLES,)).fetchone() == (5,)
        left = su.execute(
            """SELECT count(*) FROM pg_shdepend AS d
               WHERE d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND d.refclassid = 'pg_authid'::regclass
                 AND d.refobjid IN (SELECT oid FROM pg_roles WHERE rolname = ANY (%s))""",
            (GROUP_ROLES,)).fetchone()[0]
        assert left == 0
    with psycopg.connect(pg.dsn(sec_db)) as other:
        assert other.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'devdiag.diag_run'::regclass"
        ).fetchone() == ("devdiag_owner",)
    assert "applying" in run(dsn)
    with psycopg.connect(dsn) as conn:
        assert conn.execute(
            "SELECT pg_get_userbyid(relowner), relforcerowsecurity FROM pg_class WHERE oid = 'devdiag.diag_run'::regclass"
        ).fetchone() == ("devdiag_owner", True)


def test_a_login_that_is_not_a_member_of_the_owner_role_is_told_what_to_grant(pg, sec_db):
    """migrate acts as the schema owner; a login that cannot SET ROLE to it gets the GRANT to ask for."""
    login = f"t_sec_{uuid.uuid4().hex[:8]}_otherdba"
    with psycopg.connect(pg.dsn(sec_db), autocommit=True) as dba:
        create_login(dba, login, [])
        try:
            with psycopg.connect(pg.dsn(sec_db), user=login) as conn:
                with pytest.raises(DevdiagError, match="GRANT devdiag_owner TO"):
                    migrate_mod.act_as_schema_owner(conn)
        finally:
            drop_role(dba, login)


def test_migrate_acts_as_the_owner_role_and_keeps_bookkeeping_with_the_login(pg, fresh_db):
    """Objects a migrate creates belong to devdiag_owner; the login stays the owner of devdiag_meta."""
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        migrate_mod.act_as_schema_owner(conn)
        assert conn.execute("SELECT current_user, session_user").fetchone() == ("devdiag_owner", "devdiag")
        conn.rollback()
        assert conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'devdiag_meta'"
                            ).fetchone() == ("devdiag",)


def test_dba_login_reads_and_maintains_every_tenant_under_force(db):
    """The DBA login (a member of devdiag_owner) reads, updates and deletes rows of every tenant although
    row security is forced on the owner: the owner policy is what jobs and maintenance rely on."""
    for tenant, h in [(TENANT_A, HASHES["A"]), (TENANT_B, HASHES["B"])]:
        db.execute("INSERT INTO devdiag.diag_run (tenant, target_hash, ts) VALUES (%s, %s, now() - interval '400 days')",
                   (tenant, h))
    assert db.execute("SELECT count(DISTINCT tenant) FROM devdiag.diag_run").fetchone() == (2,)
    moved = db.execute(
        """WITH m AS (DELETE FROM devdiag.diag_run WHERE ts < now() - interval '180 days' RETURNING *)
           INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, env_fp, problems, evidence, preset)
           SELECT id, ts, tenant, target_hash, env_fp, problems, evidence, preset FROM m""")
    assert moved.rowcount == 2
    assert db.execute("UPDATE devdiag.diag_run_archive SET env_fp = 'x'").rowcount == 2
    db.execute("SET ROLE devdiag_owner")
    assert db.execute("SELECT count(DISTINCT tenant) FROM devdiag.diag_run_archive").fetchone() == (2,)


def test_pg_dump_as_the_dba_needs_enable_row_security_and_then_holds_every_tenant(pg, sec_db, cast):
    """pg_dump turns row_security off, which FORCE turns into an error on a tenant table; the runs live in day
    partitions that only the owner may reach (another login is refused), and the DBA's dump of the warehouse
    schemas with --enable-row-security holds the runs of every tenant, which is how backups run."""
    pg_dump = find_bindir() / "pg_dump"
    conn = ["--no-password", f"--host={pg.host}", f"--port={pg.port}", f"--dbname={sec_db}"]
    env = {**os.environ, "PGTZ": "UTC"}
    plain = subprocess.run([str(pg_dump), "--data-only", "--table=devdiag.fix_outcome", "--username=devdiag", *conn],
                           capture_output=True, text=True, env=env)
    assert plain.returncode != 0 and "row-level security" in plain.stderr
    other = subprocess.run([str(pg_dump), "--data-only", "--schema=devdiag_part", f"--username={cast['analyst']}",
                            *conn], capture_output=True, text=True, env=env)
    assert other.returncode != 0 and "permission denied" in other.stderr
    dumped = subprocess.run([str(pg_dump), "--enable-row-security", "--data-only", "--schema=devdiag",
                             "--schema=devdiag_part", "--username=devdiag", *conn],
                            capture_output=True, text=True, env=env)
    assert dumped.returncode == 0, dumped.stderr
    for label in ["A", "B", "W"]:
        assert HASHES[label] in dumped.stdout, label


def test_rollback_drops_the_group_roles_once_no_database_of_the_cluster_uses_them():
    """On a cluster of its own (roles are cluster-wide), rolling the only warehouse back to empty drops
    the five group roles; migrating again re-creates them."""
    from devdiag_warehouse.localdb import LocalCluster, free_port

    base = LocalCluster.base_dir(f"test-roles-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    local = LocalCluster(base / "data", find_bindir(), free_port(), base)
    local.cron_database = "devdiag_no_cron"
    try:
        dsn = local.ensure_running()
        run(dsn)
        with psycopg.connect(local.superuser_dsn()) as su:
            assert su.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY (%s)", (GROUP_ROLES,)).fetchone() == (5,)
        run(dsn, "rollback", all_steps=True)
        with psycopg.connect(local.superuser_dsn()) as su:
            assert su.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY (%s)", (GROUP_ROLES,)).fetchone() == (0,)
        assert "applying 0001_baseline" in run(dsn)
        with psycopg.connect(local.superuser_dsn()) as su:
            assert su.execute("SELECT count(*) FROM pg_roles WHERE rolname = ANY (%s)", (GROUP_ROLES,)).fetchone() == (5,)
    finally:
        local.destroy()
