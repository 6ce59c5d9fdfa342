"""A reader mapped to tenant A, acting as an attacker who types any SQL:
nothing of tenant B (nor of W) may come back, by any path, and nothing may be written.

Every check walks the catalog, so a table, view or function added later is
attacked too.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.policies.support import (
    GROUP_ROLES,
    NON_TENANT_TABLES,
    ident,
    SEEDED_READER_VIEWS,
    TENANT_A,
    TENANT_B,
    leaked,
    refused,
    relations,
    schema_and_name,
    select_all,
    tenants_of,
)
from tests.rollups.test_rollups_window_queries import FILES as WINDOW_QUERIES, QUERIES, psql

# Functions a reader may execute that take arguments: how the attacker calls them.
CALLS_WITH_ARGUMENTS = {
    "utc_day": "SELECT devdiag.utc_day(now())",
    "ttr_bucket": "SELECT devdiag.ttr_bucket(interval '1 day')",
    "row_limit": "SELECT devdiag.row_limit('tenant')",
    "longest_problem_code": """SELECT devdiag.longest_problem_code('["CSP"]')""",
    "tenant_health_window": "SELECT * FROM devdiag.tenant_health_window('2000-01-01', '2100-12-31')",
    "run_counts_by_tenant": "SELECT * FROM devdiag.run_counts_by_tenant('-infinity', 'infinity')",
    "run_window_floor": "SELECT devdiag.run_window_floor(interval '168 hours')",
}


def test_reader_of_tenant_a_sees_only_tenant_a_in_every_table_and_view(cast, connect_as):
    """Every relation of devdiag either refuses the reader or shows only tenant A's rows."""
    conn = connect_as(cast["reader_a"])
    seen, leaks = {}, {}
    for name, _, has_tenant in relations(conn):
        rows = select_all(conn, name)
        if rows is None:
            continue
        found = leaked(rows, ["B", "W"])
        if found:
            leaks[name] = found
        if has_tenant:
            seen[name] = tenants_of(conn, name)
    assert leaks == {}
    assert {n: t for n, t in seen.items() if t - {TENANT_A}} == {}
    # Not vacuous: the reader does see its own tenant through the tables and the views.
    for name in ["diag_run", "diag_run_archive", "fix_outcome", *SEEDED_READER_VIEWS]:
        assert seen.get(name) == {TENANT_A}, name


def test_reader_of_tenant_a_cannot_widen_to_tenant_b_with_app_current_tenant(cast, connect_as):
    """Setting app.current_tenant to B (as Tableau's Initial SQL would) shows no row at all: it only narrows."""
    conn = connect_as(cast["reader_a"])
    for value in [TENANT_B, f"{TENANT_A},{TENANT_B}", "%", ""]:
        conn.execute("SELECT set_config('app.current_tenant', %s, false)", (value,))
        for name, _, has_tenant in relations(conn):
            rows = select_all(conn, name)
            if rows is None:
                continue
            assert leaked(rows, ["B", "W"]) == [], (value, name)
            if has_tenant and value != "":
                assert rows == [], (value, name)
    conn.execute("SELECT set_config('app.current_tenant', %s, false)", (TENANT_A,))
    assert tenants_of(conn, "v_run_all") == {TENANT_A}


def test_reader_of_tenant_a_cannot_escape_with_set_role_or_session_authorization(pg, cast, connect_as):
    """SET ROLE to any other role and SET SESSION AUTHORIZATION are refused; the one role it may take,
    devdiag_reader, has no tenant of its own, and RESET ROLE returns to A only."""
    conn = connect_as(cast["reader_a"])
    targets = [g for g in GROUP_ROLES if g != "devdiag_reader"] + [
        cast["reader_w"], cast["analyst"], cast["group_a"], "devdiag", "postgres"]
    for target in targets:
        with refused(conn, f"SET ROLE {target}"):
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(target)))
        with refused(conn, f"SET SESSION AUTHORIZATION {target}"):
            conn.execute(sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(target)))
    conn.execute("SET ROLE devdiag_reader")
    for name, _, has_tenant in relations(conn):
        rows = select_all(conn, name)
        if rows is not None and has_tenant:
            assert rows == [], name
    conn.execute("RESET ROLE")
    assert tenants_of(conn, "diag_run") == {TENANT_A}
    conn.execute("SET ROLE NONE")
    assert tenants_of(conn, "v_tenant_health") == {TENANT_A}


def test_reader_of_tenant_a_cannot_turn_row_security_off(cast, connect_as):
    """With row_security off, a query the policies would filter fails instead of returning every row."""
    conn = connect_as(cast["reader_a"])
    conn.execute("SET row_security = off")
    for name in ["diag_run", "fix_outcome", "v_run_all"]:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            with conn.transaction():
                conn.execute(sql.SQL("SELECT * FROM {}").format(ident(name)))


def test_reader_of_tenant_a_cannot_see_tenant_b_through_functions_it_may_execute(cast, connect_as, dba):
    """Every routine of devdiag the reader may execute is called; none returns anything of B or W."""
    login = cast["reader_a"]
    routines = dba.execute(
        """SELECT p.proname, p.pronargs - p.pronargdefaults, p.prokind::text FROM pg_proc AS p
           WHERE p.pronamespace = 'devdiag'::regnamespace AND has_function_privilege(%s, p.oid, 'EXECUTE')
           ORDER BY 1""", (login,)).fetchall()
    assert {r[0] for r in routines} >= {"allowed_tenants"}
    unknown = [r[0] for r in routines if r[1] > 0 and r[0] not in CALLS_WITH_ARGUMENTS or r[2] != "f"]
    assert unknown == [], "add an attacker call for each routine a reader may execute"
    conn = connect_as(login)
    for name, required_args, _ in routines:
        query = CALLS_WITH_ARGUMENTS.get(name) or sql.SQL("SELECT * FROM {}() AS x").format(
            ident(name))
        for narrowing in ["", TENANT_B]:
            conn.execute("SELECT set_config('app.current_tenant', %s, false)", (narrowing,))
            rows = conn.execute(query).fetchall()
            assert leaked(rows, ["B", "W"]) == [], name
    conn.execute("RESET app.current_tenant")
    # the raw episode replay is a reference computation, out of the reader's reach
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="devdiag_ref"):
        with conn.transaction():
            conn.execute("SELECT DISTINCT tenant FROM devdiag_ref.ttr_episodes()")


def test_reader_of_tenant_a_cannot_leak_tenant_b_through_a_leaky_function(cast, connect_as):
    """A cheap function that raises NOTICEs with its arguments, put in a WHERE clause, only ever sees A's rows:
    row security is applied before the attacker's predicate."""
    conn = connect_as(cast["reader_a"])
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    conn.execute(
        """CREATE FUNCTION pg_temp.peek(VARIADIC v text[]) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
           BEGIN RAISE NOTICE 'peek %', array_to_string(v, '|'); RETURN true; END $$""")
    for name, _, has_tenant in relations(conn, "rpv"):
        if not has_tenant or select_all(conn, name) is None:
            continue
        cols = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = ('devdiag.' || quote_ident(%s))::regclass "
            "AND attnum > 0 AND NOT attisdropped AND atttypid IN ('text'::regtype, 'jsonb'::regtype)",
            (name,)).fetchall()]
        args = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in cols)
        conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE pg_temp.peek({})").format(
            ident(name), args))
    # newest first through the run tables' time index, whose condition runs before the policy
    for name in ("devdiag.v_recent_activity", "devdiag.v_run_all"):
        conn.execute(sql.SQL(
            "SELECT * FROM {} WHERE ts > now() - interval '400 days' AND pg_temp.peek(tenant, target_hash) "
            "ORDER BY ts DESC LIMIT 5").format(sql.SQL(name)))
    assert any(TENANT_A in n for n in notices)
    assert leaked([notices], ["B", "W"]) == []


def test_reader_writes_are_refused_on_every_table_and_view(cast, connect_as, dba):
    """INSERT, UPDATE, DELETE and TRUNCATE fail on every relation of devdiag, and no row changed."""
    def counts():
        return {n: dba.execute(sql.SQL("SELECT count(*) FROM {}").format(ident(n))).fetchone()[0]
                for n, _, _ in relations(dba, "rp")}

    before = counts()
    conn = connect_as(cast["reader_a"])
    for name, kind, _ in relations(conn, "rpvm"):
        rel = ident(name)
        # by name in the catalog: a reader may not look up a relation of devdiag_rollup
        first_col = conn.execute(
            "SELECT a.attname FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid "
            "WHERE c.relnamespace = to_regnamespace(%s) AND c.relname = %s "
            "AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = '' "
            "ORDER BY a.attnum LIMIT 1", schema_and_name(name)).fetchone()[0]
        statements = [
            sql.SQL("INSERT INTO {} DEFAULT VALUES").format(rel),
            sql.SQL("UPDATE {} SET {} = {}").format(rel, sql.Identifier(first_col), sql.Identifier(first_col)),
            sql.SQL("DELETE FROM {}").format(rel),
        ]
        if kind in "rp":
            statements.append(sql.SQL("TRUNCATE {}").format(rel))
        for stmt in statements:
            try:
                with conn.transaction():
                    conn.execute(stmt)
                    raise AssertionError(f"{stmt.as_string(conn)} succeeded")
            except psycopg.errors.InsufficientPrivilege:
                pass
            except psycopg.errors.Error as exc:
                # A view that is not updatable says so before privileges are checked; still a refusal.
                assert kind in "vm", (name, str(exc))
    assert counts() == before


def test_reader_cannot_grant_itself_a_tenant(cast, connect_as):
    """Neither grant_tenant nor writing the mapping table directly gives the reader tenant B."""
    login = cast["reader_a"]
    conn = connect_as(login)
    with refused(conn, "grant_tenant"):
        conn.execute("SELECT devdiag.grant_tenant(%s, %s)", (login, TENANT_B))
    with refused(conn, "INSERT INTO tenant_grant"):
        conn.execute("INSERT INTO devdiag.tenant_grant (grantee, tenant) VALUES (%s::regrole, %s)", (login, TENANT_B))
    with refused(conn, "revoke_tenant"):
        conn.execute("SELECT devdiag.revoke_tenant(%s, %s)", (login, TENANT_A))
    assert tenants_of(conn, "diag_run") == {TENANT_A}


def test_reader_cannot_read_the_mapping_or_the_migration_bookkeeping(cast, connect_as):
    """The mapping (who reads which tenant) and yoyo's tables are closed to readers."""
    conn = connect_as(cast["reader_a"])
    for stmt in ["SELECT * FROM devdiag.tenant_grant", "SELECT * FROM devdiag_meta._yoyo_migration",
                 "SELECT * FROM devdiag_meta.migration_checksum"]:
        with refused(conn, stmt):
            conn.execute(stmt)


def test_reader_cannot_change_settings_or_create_objects_in_devdiag(cast, connect_as):
    """Settings are read-only for readers, and they cannot add or shadow objects in the warehouse schema."""
    conn = connect_as(cast["reader_a"])
    assert select_all(conn, "settings")
    for stmt in [
        "UPDATE devdiag.settings SET value = '1' WHERE key = 'retention_days'",
        "INSERT INTO devdiag.settings (key, value, description) VALUES ('x', '1', 'x')",
        "CREATE TABLE devdiag.t_probe (tenant text)",
        "CREATE FUNCTION devdiag.allowed_tenants(x int) RETURNS text[] LANGUAGE sql RETURN ARRAY['victim-b']",
        "CREATE VIEW devdiag.t_probe_v AS SELECT 1 AS one",
    ]:
        with refused(conn, stmt):
            conn.execute(stmt)


def test_unmapped_reader_sees_no_tenant_rows_anywhere(cast, connect_as):
    """A reader login with no tenant mapped sees no row of any tenant table or view (fail closed)."""
    conn = connect_as(cast["reader_none"])
    readable = []
    for name, _, has_tenant in relations(conn):
        rows = select_all(conn, name)
        if rows is None:
            continue
        readable.append(name)
        assert leaked(rows, ["A", "B", "W"]) == [], name
        if has_tenant:
            assert rows == [], name
        else:
            assert name in NON_TENANT_TABLES, name
    assert {"diag_run", "v_problem_counts", "v_tenant_health"} <= set(readable)


def test_login_without_any_group_role_reads_nothing(cast, connect_as):
    """A login that is no member of a devdiag role cannot even use the schema."""
    conn = connect_as(cast["nobody"])
    assert [n for n, _, _ in relations(conn) if select_all(conn, n) is not None] == []
    assert relations(conn)


def test_reader_of_tenant_a_runs_the_window_queries_and_gets_tenant_a_alone(pg, sec_db, cast):
    """Each analyst window query (sql/queries/3xx), run by the reader of A with psql as analysts run it, gives
    what the owner gets for tenant A alone: the rollups, the episodes and the functions they read answer the
    reader under its own row policies."""
    reader = make_conninfo(pg.dsn(sec_db), user=cast["reader_a"])
    assert len(WINDOW_QUERIES) >= 6
    for path in WINDOW_QUERIES:
        assert psql(reader, path, []) == psql(pg.dsn(sec_db), path, [f"tenant={TENANT_A}"]), path.name
    ttr = psql(reader, QUERIES / "320_ttr_summary.sql", [])
    assert ttr[-1].startswith("(all problems)|") and not ttr[-1].startswith("(all problems)|0|"), ttr
