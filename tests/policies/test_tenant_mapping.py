"""The role-to-tenant mapping: grant_tenant / revoke_tenant, membership,
hostile tenant and role names, and the cost of the check at scale."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from tests.policies.support import (
    HASHES,
    TENANT_A,
    TENANT_B,
    TENANT_W,
    create_login,
    drop_role,
    leaked,
    relations,
    select_all,
    tenants_of,
)


@pytest.fixture
def temp_login(pg, sec_db):
    """Make reader logins for one test (names may be hostile); dropped afterwards."""
    made: list[str] = []

    def _make(suffix: str = "") -> str:
        name = f"t_sec_{uuid.uuid4().hex[:8]}{suffix}"
        with psycopg.connect(pg.dsn(sec_db), autocommit=True) as conn:
            create_login(conn, name, ["devdiag_reader"])
        made.append(name)
        return name

    yield _make
    with psycopg.connect(pg.dsn(sec_db), autocommit=True) as conn:
        for name in made:
            drop_role(conn, name)


def test_tenant_names_with_quotes_semicolons_and_unicode_round_trip(cast, connect_as):
    """Tenant W's name (quotes, semicolon, comment, backslash, non-ASCII) is read back intact through
    tables, views, functions and app.current_tenant, and only W's rows come back."""
    conn = connect_as(cast["reader_w"])
    assert conn.execute("SELECT devdiag.allowed_tenants()").fetchone() == ([TENANT_W],)
    assert conn.execute("SELECT tenant FROM devdiag.v_my_tenants").fetchall() == [(TENANT_W,)]
    for name in ["diag_run", "diag_run_archive", "fix_outcome", "v_problem_counts", "v_ttr_days", "v_tenant_health"]:
        assert tenants_of(conn, name) == {TENANT_W}, name
    hashes = {r[0] for r in conn.execute("SELECT target_hash FROM devdiag.v_run_all").fetchall()}
    assert hashes == {HASHES["W"]}
    conn.execute("SELECT set_config('app.current_tenant', %s, false)", (TENANT_W,))
    assert tenants_of(conn, "v_run_all") == {TENANT_W}
    conn.execute("SELECT set_config('app.current_tenant', %s, false)", (TENANT_W[:-1],))
    assert tenants_of(conn, "v_run_all") == set()
    # The table survived the name's "DROP TABLE".
    assert conn.execute("SELECT to_regclass('devdiag.diag_run') IS NOT NULL").fetchone() == (True,)


def test_a_login_with_a_hostile_name_is_granted_and_revoked_by_value(pg, sec_db, dba, connect_as, temp_login):
    """grant_tenant / revoke_tenant take the role name as a value: a login named with quotes and unicode works."""
    login = temp_login("_O'Brien\"; DROP ROLE devdiag_reader; -- é")
    assert dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (login, TENANT_W)).fetchone() == (True,)
    assert dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (login, TENANT_W)).fetchone() == (False,)
    conn = connect_as(login)
    assert tenants_of(conn, "diag_run") == {TENANT_W}
    assert dba.execute("SELECT devdiag.revoke_tenant(%s, %s)", (login, TENANT_W)).fetchone() == (True,)
    assert tenants_of(conn, "diag_run") == set()
    assert dba.execute("SELECT devdiag.revoke_tenant(%s, %s)", (login, TENANT_W)).fetchone() == (False,)
    assert dba.execute("SELECT 1 FROM pg_roles WHERE rolname = 'devdiag_reader'").fetchone() == (1,)


def test_revoking_a_tenant_takes_effect_on_the_next_query_of_an_open_session(dba, connect_as, temp_login):
    """A Tableau session that stays connected loses the tenant at its next query."""
    login = temp_login()
    dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (login, TENANT_A))
    dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (login, TENANT_B))
    conn = connect_as(login)
    assert tenants_of(conn, "v_tenant_health") == {TENANT_A, TENANT_B}
    dba.execute("SELECT devdiag.revoke_tenant(%s, %s)", (login, TENANT_B))
    assert tenants_of(conn, "v_tenant_health") == {TENANT_A}
    assert leaked(select_all(conn, "v_run_all"), ["B"]) == []


def test_membership_through_a_tenant_group_role_counts(cast, connect_as):
    """A login inherits the tenants of a group role it is a member of (and nothing else)."""
    conn = connect_as(cast["reader_grp"])
    assert conn.execute("SELECT devdiag.allowed_tenants()").fetchone() == ([TENANT_A],)
    for name in ["diag_run", "v_problem_counts", "v_fix_ranking"]:
        assert tenants_of(conn, name) == {TENANT_A}, name


def test_a_new_role_reusing_a_dropped_roles_name_inherits_none_of_its_tenants(pg, sec_db, dba, connect_as):
    """The mapping holds role OIDs: dropping a login and creating another of the same name gives it no tenant."""
    name = f"t_sec_{uuid.uuid4().hex[:8]}_reused"
    try:
        create_login(dba, name, ["devdiag_reader"])
        dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (name, TENANT_B))
        drop_role(dba, name)
        create_login(dba, name, ["devdiag_reader"])
        conn = connect_as(name)
        assert tenants_of(conn, "diag_run") == set()
        assert conn.execute("SELECT devdiag.allowed_tenants()").fetchone() == ([],)
    finally:
        drop_role(dba, name)


def test_a_grant_whose_role_no_longer_has_its_name_counts_for_nobody(pg, sec_db, dba, connect_as):
    """A grant is kept by OID and name: a grant row naming another role for the same OID (what a restore of a
    dropped role's bare OID produces) gives that role nothing, and grant_tenant clears it."""
    name = f"t_sec_{uuid.uuid4().hex[:8]}_heir"
    try:
        create_login(dba, name, ["devdiag_reader"])
        with psycopg.connect(pg.superuser_dsn(sec_db), autocommit=True) as su:
            su.execute("""INSERT INTO devdiag.tenant_grant (grantee, grantee_name, tenant)
                          VALUES (%s::regrole, 'a_dropped_role', %s)""", (name, TENANT_B))
        conn = connect_as(name)
        assert tenants_of(conn, "diag_run") == set()
        dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (name, TENANT_A))
        assert tenants_of(conn, "diag_run") == {TENANT_A}
        with psycopg.connect(pg.superuser_dsn(sec_db)) as su:
            assert su.execute("SELECT count(*) FROM devdiag.tenant_grant WHERE grantee_name = 'a_dropped_role'"
                              ).fetchone() == (0,)
    finally:
        dba.execute("SELECT devdiag.revoke_tenant(%s, %s)", (name, TENANT_A))
        drop_role(dba, name)


@pytest.mark.parametrize(("role", "tenant", "error"), [
    ("devdiag_reader", TENANT_A, psycopg.errors.InvalidParameterValue),
    ("devdiag_analyst", TENANT_A, psycopg.errors.InvalidParameterValue),
    ("t_sec_no_such_role", TENANT_A, psycopg.errors.UndefinedObject),
    ("devdiag", "", psycopg.errors.InvalidParameterValue),
    ("devdiag", None, psycopg.errors.InvalidParameterValue),
])
def test_grant_tenant_refuses_shared_group_roles_unknown_roles_and_empty_tenants(db, role, tenant, error):
    """Mapping a tenant to a shared group role would give it to every member: refused, like bad input."""
    with pytest.raises(error):
        db.execute("SELECT devdiag.grant_tenant(%s, %s)", (role, tenant))


def test_allowed_tenants_reveals_only_the_callers_own_tenants(cast, connect_as):
    """Readers may call allowed_tenants(), which answers for the caller only (never another role's tenants)."""
    assert connect_as(cast["reader_a"]).execute("SELECT devdiag.allowed_tenants()").fetchone() == ([TENANT_A],)
    assert connect_as(cast["reader_none"]).execute("SELECT devdiag.allowed_tenants()").fetchone() == ([],)
    conn = connect_as(cast["reader_a"])
    conn.execute("SET ROLE devdiag_reader")
    assert conn.execute("SELECT devdiag.allowed_tenants()").fetchone() == ([],)
    with pytest.raises(psycopg.errors.UndefinedFunction):
        conn.execute("SELECT devdiag.allowed_tenants(%s::name)", (cast["reader_w"],))


def test_a_superuser_checking_a_login_with_set_role_sees_what_the_login_sees(pg, sec_db, cast):
    """SET ROLE from an administrator session answers for the role set (how the README verifies isolation)."""
    with psycopg.connect(pg.superuser_dsn(sec_db), autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(cast["reader_a"])))
        assert tenants_of(conn, "v_run_all") == {TENANT_A}


def test_allowed_tenants_runs_once_per_query_not_once_per_row(pg, sec_db, cast):
    """At 10M rows the check must not run per row: one call per table scanned, whatever the row count,
    and the tenant index serves the policy."""
    with psycopg.connect(pg.superuser_dsn(sec_db)) as conn:
        conn.execute("SET track_functions = 'all'")
        conn.execute(
            """INSERT INTO devdiag.diag_run (tenant, target_hash, ts)
               SELECT CASE WHEN i %% 2 = 0 THEN %s ELSE %s END, %s, now() - i * interval '1 minute'
               FROM generate_series(1, 5000) AS i""", (TENANT_A, TENANT_B, HASHES["A"]))
        conn.execute("ANALYZE devdiag.diag_run")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(cast["reader_a"])))
        fn = "'devdiag.allowed_tenants()'::regprocedure"
        before = conn.execute(f"SELECT coalesce(pg_stat_get_xact_function_calls({fn}), 0)").fetchone()[0]
        n = conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0]
        after = conn.execute(f"SELECT pg_stat_get_xact_function_calls({fn})").fetchone()[0]
        assert n >= 2500
        assert after - before == 1
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT count(*) FROM devdiag.diag_run WHERE ts > now() - interval '1 hour'").fetchall())
        assert "InitPlan" in plan and "Index" in plan, plan
        conn.rollback()


def test_every_relation_readable_by_a_reader_is_listed_in_the_catalog_walk(cast, connect_as):
    """The catalog walk the attacker tests use sees the tables and views (so they cannot pass on an empty walk)."""
    conn = connect_as(cast["reader_a"])
    names = {n for n, _, _ in relations(conn)}
    assert {"diag_run", "fix_outcome", "diag_run_archive", "settings", "tenant_grant", "v_run_all"} <= names


def my_tenants(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT tenant FROM devdiag.v_my_tenants ORDER BY tenant").fetchall()]


def test_v_my_tenants_lists_the_tenant_of_a_per_tenant_reader(cast, connect_as):
    """A reader mapped to A sees A, and nothing else, in v_my_tenants."""
    assert my_tenants(connect_as(cast["reader_a"])) == [TENANT_A]


def test_v_my_tenants_lists_the_tenants_of_a_group_role_reader(cast, connect_as):
    """A reader that holds A through a tenant group role sees A in v_my_tenants."""
    assert my_tenants(connect_as(cast["reader_grp"])) == [TENANT_A]


def test_v_my_tenants_lists_every_tenant_for_an_analyst(cast, connect_as):
    """An analyst maps no tenant yet reads all of them: v_my_tenants lists each, and app.current_tenant narrows it."""
    conn = connect_as(cast["analyst"])
    assert my_tenants(conn) == sorted([TENANT_A, TENANT_B, TENANT_W])
    conn.execute("SET app.current_tenant = 'victim-b'")
    assert my_tenants(conn) == [TENANT_B]


def test_v_my_tenants_lists_a_mapped_tenant_without_data_and_nothing_for_the_unmapped(dba, cast, connect_as,
                                                                                    temp_login):
    """A tenant mapped before its first run is listed; a reader mapped to nothing sees an empty list."""
    login = temp_login()
    dba.execute("SELECT devdiag.grant_tenant(%s, %s)", (login, "tenant-without-runs"))
    assert my_tenants(connect_as(login)) == ["tenant-without-runs"]
    assert my_tenants(connect_as(cast["reader_none"])) == []
