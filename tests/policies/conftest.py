"""Fixtures for tests/policies: one seeded warehouse and a cast of logins.

Roles are cluster-global and every database of the test cluster shares them,
so each login is named after this session's random prefix and dropped at the
end. The logins are created by the DBA role ``devdiag`` (CREATEROLE, no
superuser), exactly as the README tells a DBA to.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.policies.support import (  # noqa: E402
    TENANT_A,
    TENANT_W,
    Cast,
    create_login,
    drop_role,
    seed,
)


@pytest.fixture(scope="session")
def sec_db(pg):
    """A migrated clone holding the seed (committed), shared by the read-only attacker tests."""
    name = pg.clone()
    with psycopg.connect(pg.dsn(name)) as conn:
        seed(conn)
    yield name
    pg.drop(name)


@pytest.fixture(scope="session")
def cast(pg, sec_db):
    """Logins for every role: readers of A, of W, through a group, unmapped; analyst, writer, monitor, nobody."""
    c = Cast(prefix=f"t_sec_{uuid.uuid4().hex[:8]}")
    parts = {
        "reader_a": ["devdiag_reader"],
        "reader_w": ["devdiag_reader"],
        "reader_grp": ["devdiag_reader"],
        "reader_none": ["devdiag_reader"],
        "analyst": ["devdiag_analyst"],
        "writer": ["devdiag_writer"],
        "monitor": ["devdiag_monitor"],
        "nobody": [],
    }
    group = f"{c.prefix}_tenant_group_a"
    with psycopg.connect(pg.dsn(sec_db), autocommit=True) as dba:
        dba.execute(psycopg.sql.SQL("CREATE ROLE {} NOLOGIN").format(psycopg.sql.Identifier(group)))
        for part, groups in parts.items():
            c.names[part] = f"{c.prefix}_{part}"
            create_login(dba, c.names[part], groups)
        create_login_group = psycopg.sql.SQL("GRANT {} TO {}").format(
            psycopg.sql.Identifier(group), psycopg.sql.Identifier(c.names["reader_grp"]))
        dba.execute(create_login_group)
        c.names["group_a"] = group
        dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (c["reader_a"], TENANT_A))
        dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (c["reader_w"], TENANT_W))
        dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (group, TENANT_A))
    yield c
    with psycopg.connect(pg.dsn(sec_db), autocommit=True) as dba:
        for name in c.names.values():
            drop_role(dba, name)


@pytest.fixture
def connect_as(pg, sec_db):
    """Open autocommit connections to the seeded warehouse as a given login; closed after the test."""
    opened: list[psycopg.Connection] = []

    def _connect(login: str, dbname: str | None = None) -> psycopg.Connection:
        conn = psycopg.connect(pg.dsn(dbname or sec_db), user=login, autocommit=True)
        conn.execute("SET TimeZone = 'UTC'")
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()


@pytest.fixture
def dba(pg, sec_db):
    """The DBA login on the seeded warehouse (member of devdiag_owner), autocommit."""
    with psycopg.connect(pg.dsn(sec_db), autocommit=True) as conn:
        yield conn
