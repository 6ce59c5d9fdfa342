"""The catalog itself: every table and view of devdiag, including ones added
later, is protected the same way, and nothing is granted by accident."""

from __future__ import annotations

import psycopg
import pytest

from tests.policies.support import GROUP_ROLES, NON_TENANT_TABLES, ident, relations


def policies(conn, table: str) -> dict[str, tuple]:
    rows = conn.execute(
        """SELECT p.polname, p.polcmd::text, p.polpermissive,
                  ARRAY(SELECT CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r) END
                        FROM unnest(p.polroles) AS r ORDER BY 1),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
           FROM pg_policy AS p WHERE p.polrelid = %s::regclass""",
        (ident(table).as_string(conn),)).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_every_table_of_devdiag_is_a_protected_tenant_table_or_declared_tenant_free(db):
    """A table added later fails here unless it has a tenant column with ENABLE and FORCE row security,
    or is listed in NON_TENANT_TABLES with a reason."""
    offenders = []
    for name, kind, has_tenant in relations(db, "rpf"):
        if name in NON_TENANT_TABLES:
            continue
        flags = db.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
            (ident(name).as_string(db),)).fetchone()
        if kind == "f":
            offenders.append(f"{name}: foreign table (no row security possible)")
        elif not has_tenant:
            offenders.append(f"{name}: no tenant column and not declared tenant-free")
        elif flags != (True, True):
            offenders.append(f"{name}: row security enabled/forced = {flags}")
    assert offenders == []
    assert {"diag_run", "diag_run_archive", "fix_outcome"} <= {n for n, _, t in relations(db, "rp") if t}


def test_every_tenant_table_carries_exactly_the_standard_policies(db):
    """Each tenant table has the same six policies as diag_run and no other (an extra permissive one would widen)."""
    reference = policies(db, "diag_run")
    assert set(reference) == {
        "tenant_owner_all", "tenant_reader_select", "tenant_analyst_select",
        "tenant_writer_select", "tenant_writer_insert", "tenant_writer_update",
    }
    assert reference["tenant_owner_all"][:3] == ("*", True, ["devdiag_owner"])
    cmd, permissive, roles, qual, check = reference["tenant_reader_select"]
    assert (cmd, permissive, roles, check) == ("r", True, ["devdiag_reader"], None)
    assert "allowed_tenants()" in qual and "current_setting" not in qual
    cmd, permissive, roles, qual, check = reference["tenant_analyst_select"]
    assert (cmd, roles, check) == ("r", ["devdiag_analyst"], None)
    assert "current_setting('app.current_tenant'" in qual
    assert [p for p, v in reference.items() if p.startswith("tenant_writer")] and all(
        v[2] == ["devdiag_writer"] for p, v in reference.items() if p.startswith("tenant_writer"))
    offenders = {}
    for name, _, has_tenant in relations(db, "rp"):
        if has_tenant and name not in NON_TENANT_TABLES and policies(db, name) != reference:
            offenders[name] = policies(db, name)
    assert offenders == {}


def test_no_policy_in_devdiag_applies_to_public(db):
    """A policy TO PUBLIC would apply to every login, mapped or not."""
    rows = db.execute(
        """SELECT p.polrelid::regclass::text, p.polname FROM pg_policy AS p
           JOIN pg_class AS c ON c.oid = p.polrelid
           WHERE c.relnamespace = 'devdiag'::regnamespace AND 0::oid = ANY (p.polroles)""").fetchall()
    assert rows == []


def test_every_view_of_devdiag_is_security_invoker(db):
    """A view without security_invoker reads as its owner, who sees every tenant: none may exist."""
    rows = db.execute(
        """SELECT c.relname FROM pg_class AS c
           WHERE c.relnamespace = 'devdiag'::regnamespace AND c.relkind = 'v'
             AND NOT EXISTS (SELECT FROM pg_options_to_table(c.reloptions) AS o
                             WHERE o.option_name = 'security_invoker'
                               AND lower(o.option_value) IN ('true', 'on', 'yes', '1'))
           ORDER BY 1""").fetchall()
    assert rows == []
    assert len(relations(db, "v")) >= 10


def test_no_materialized_view_is_readable_by_tenant_scoped_roles(db):
    """A materialized view holds its owner's rows with no row security: readers, writers and monitoring get none."""
    rows = db.execute(
        """SELECT c.relname, g.rolname FROM pg_class AS c
           CROSS JOIN (VALUES ('devdiag_reader'), ('devdiag_writer'), ('devdiag_monitor')) AS g (rolname)
           WHERE c.relnamespace = 'devdiag'::regnamespace AND c.relkind = 'm'
             AND has_table_privilege(g.rolname, c.oid, 'SELECT')""").fetchall()
    assert rows == []


def test_public_holds_no_privilege_on_anything_in_devdiag(db):
    """PUBLIC may not use the schemas, read a table, use a sequence or execute a routine (defaults included)."""
    rows = db.execute(
        """SELECT n.nspname FROM pg_namespace AS n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
           WHERE n.nspname IN ('devdiag', 'devdiag_rollup') AND a.grantee = 0
           UNION ALL
           SELECT c.relname FROM pg_class AS c,
                  aclexplode(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char",
                                                           c.relowner))) AS a
           WHERE c.relnamespace IN ('devdiag'::regnamespace, 'devdiag_rollup'::regnamespace)
             AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND a.grantee = 0
           UNION ALL
           SELECT p.oid::regprocedure::text FROM pg_proc AS p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
           WHERE p.pronamespace = 'devdiag'::regnamespace AND a.grantee = 0""").fetchall()
    assert rows == []


def test_a_function_created_later_is_not_executable_by_public(db):
    """Default privileges: a routine the owner adds is closed to PUBLIC before any grant file runs."""
    db.execute("SET ROLE devdiag_owner")
    db.execute("CREATE FUNCTION devdiag.t_probe_default_acl() RETURNS int LANGUAGE sql RETURN 1")
    public = db.execute(
        """SELECT count(*) FROM pg_proc AS p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
           WHERE p.oid = 'devdiag.t_probe_default_acl()'::regprocedure AND a.grantee = 0""").fetchone()[0]
    assert public == 0
    assert db.execute("SELECT has_function_privilege('devdiag_reader', 'devdiag.t_probe_default_acl()', 'EXECUTE')"
                      ).fetchone() == (False,)


def test_only_the_owner_has_any_privilege_on_the_tenant_mapping(db):
    """No group role (nor PUBLIC) may read or change devdiag.tenant_grant."""
    rows = db.execute(
        """SELECT a.grantee::regrole::text, a.privilege_type
           FROM pg_class AS c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
           WHERE c.oid = 'devdiag.tenant_grant'::regclass AND a.grantee <> c.relowner""").fetchall()
    assert rows == []
    for role in GROUP_ROLES[1:]:
        assert db.execute("SELECT has_table_privilege(%s, 'devdiag.tenant_grant', 'SELECT')", (role,)).fetchone() == (
            False,)


def test_no_group_role_may_use_the_migration_bookkeeping_schema(db):
    """yoyo's tables and the checksums live in devdiag_meta, which no group role (nor PUBLIC) may even look into."""
    for role in GROUP_ROLES:
        assert db.execute("SELECT has_schema_privilege(%s, 'devdiag_meta', 'USAGE')", (role,)).fetchone() == (False,)
    public = db.execute(
        """SELECT count(*) FROM pg_namespace AS n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
           WHERE n.nspname = 'devdiag_meta' AND a.grantee = 0""").fetchone()[0]
    assert public == 0


def test_security_definer_functions_pin_their_search_path(db):
    """A SECURITY DEFINER function without a fixed search_path can be hijacked by the caller's objects."""
    rows = db.execute(
        """SELECT p.oid::regprocedure::text FROM pg_proc AS p
           WHERE p.pronamespace = 'devdiag'::regnamespace AND p.prosecdef
             AND NOT coalesce(EXISTS (SELECT FROM unnest(p.proconfig) AS c
                                      WHERE c LIKE 'search_path=pg_catalog%%'), FALSE)""").fetchall()
    assert rows == []
    assert db.execute(
        "SELECT prosecdef FROM pg_proc WHERE oid = 'devdiag.allowed_tenants()'::regprocedure").fetchone() == (True,)


def test_group_roles_cannot_log_in_bypass_row_security_or_hand_out_attributes(db):
    """SET ROLE to a group role gives its attributes, so none has LOGIN, SUPERUSER, BYPASSRLS, CREATEROLE or CREATEDB."""
    rows = db.execute(
        """SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication
           FROM pg_roles WHERE rolname = ANY (%s) ORDER BY 1""", (GROUP_ROLES,)).fetchall()
    assert [r[0] for r in rows] == sorted(GROUP_ROLES)
    assert [r for r in rows if any(r[1:])] == []


def test_every_object_of_devdiag_belongs_to_devdiag_owner(db):
    """The schema, its relations, routines and types are owned by the NOLOGIN owner role, not by a login."""
    rows = db.execute(
        """SELECT 'schema', nspname, pg_get_userbyid(nspowner) FROM pg_namespace
           WHERE nspname IN ('devdiag', 'devdiag_rollup')
           UNION ALL
           SELECT 'relation', relname, pg_get_userbyid(relowner) FROM pg_class
           WHERE relnamespace IN ('devdiag'::regnamespace, 'devdiag_rollup'::regnamespace) AND relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
           UNION ALL
           SELECT 'routine', proname, pg_get_userbyid(proowner) FROM pg_proc
           WHERE pronamespace = 'devdiag'::regnamespace""").fetchall()
    assert len(rows) > 20
    assert [r for r in rows if r[2] != "devdiag_owner"] == []


def test_migration_bookkeeping_stays_with_the_migrating_login(db):
    """yoyo's tables and the checksums belong to the login that migrates, not to the owner role."""
    owners = {r[0] for r in db.execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'devdiag_meta'::regnamespace "
        "AND relkind = 'r'").fetchall()}
    assert owners == {"devdiag"}


@pytest.mark.parametrize("fn", ["grant_tenant(name, text)", "revoke_tenant(name, text)"])
def test_only_the_owner_may_call_the_mapping_functions(db, fn):
    """grant_tenant / revoke_tenant are closed to every group role but the owner."""
    for role in GROUP_ROLES[1:]:
        assert db.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", (role, f"devdiag.{fn}")).fetchone() == (
            False,)


def test_monitoring_functions_are_executable_by_monitoring_only(db):
    """The owner-run aggregate functions read every tenant: only devdiag_monitor may call them."""
    rows = db.execute(
        """SELECT p.proname, g.rolname FROM pg_proc AS p
           CROSS JOIN (VALUES ('devdiag_reader'), ('devdiag_writer'), ('devdiag_analyst')) AS g (rolname)
           WHERE p.pronamespace = 'devdiag'::regnamespace AND p.proname LIKE 'monitor\\_%%'
             AND has_function_privilege(g.rolname, p.oid, 'EXECUTE')""").fetchall()
    assert rows == []
    assert db.execute(
        "SELECT has_function_privilege('devdiag_monitor', 'devdiag.monitor_ingest_daily(integer)', 'EXECUTE')"
    ).fetchone() == (True,)


def test_reapplying_sql_takes_no_lock_on_tenant_tables_when_nothing_changed(pg, fresh_db):
    """A no-op migrate leaves policies in place (same oids) instead of re-creating them under an exclusive lock."""
    import io

    from devdiag_warehouse.migrate import Migrator

    def policy_oids():
        with psycopg.connect(pg.dsn(fresh_db)) as conn:
            return conn.execute(
                "SELECT p.oid FROM pg_policy AS p WHERE p.polrelid = 'devdiag.diag_run'::regclass ORDER BY 1"
            ).fetchall()

    before = policy_oids()
    with Migrator(pg.dsn(fresh_db), out=io.StringIO()) as m:
        m.apply()
    assert policy_oids() == before and len(before) == 6


def test_a_policy_altered_by_hand_is_put_back_by_the_next_migrate(pg, fresh_db):
    """ALTER POLICY ... USING (true) on a reader policy (a hand-made hole) is undone by make migrate."""
    import io

    from devdiag_warehouse.migrate import Migrator

    def reader_qual():
        with psycopg.connect(pg.dsn(fresh_db)) as conn:
            return conn.execute(
                "SELECT pg_get_expr(polqual, polrelid) FROM pg_policy "
                "WHERE polrelid = 'devdiag.fix_outcome'::regclass AND polname = 'tenant_reader_select'").fetchone()[0]

    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("ALTER POLICY tenant_reader_select ON devdiag.fix_outcome USING (true)")
    assert reader_qual() == "true"
    with Migrator(pg.dsn(fresh_db), out=io.StringIO()) as m:
        m.apply()
    assert "allowed_tenants()" in reader_qual()


def test_reference_computations_live_only_in_the_owner_only_schema(db):
    """No v_ref_* view or raw replay is left in devdiag; no group role may use devdiag_ref or anything in it."""
    assert db.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'devdiag'::regnamespace AND c.relname LIKE 'v\\_ref\\_%'"
    ).fetchall() == []
    assert db.execute("SELECT to_regprocedure('devdiag.ttr_episodes()')").fetchone() == (None,)
    assert db.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'devdiag_ref'::regnamespace AND relkind = 'v'"
                      ).fetchone()[0] >= 12
    roles = ["devdiag_reader", "devdiag_analyst", "devdiag_writer", "devdiag_monitor", "public"]
    usage = db.execute("SELECT r FROM unnest(%s::text[]) AS r WHERE has_schema_privilege(r, 'devdiag_ref', 'USAGE')",
                       (roles,)).fetchall()
    assert usage == []
    granted = db.execute(
        """SELECT c.relname, a.grantee::regrole::text FROM pg_class c, aclexplode(c.relacl) a
           WHERE c.relnamespace = 'devdiag_ref'::regnamespace AND a.grantee <> c.relowner
           UNION ALL
           SELECT p.proname, a.grantee::text FROM pg_proc p, aclexplode(p.proacl) a
           WHERE p.pronamespace = 'devdiag_ref'::regnamespace AND a.grantee <> p.proowner""").fetchall()
    assert granted == []


#: reader-reachable indexes that do not lead with tenant (docs/SECURITY.md, "A known channel")
INDEXES_NOT_LEADING_WITH_TENANT = {
    ("fix_outcome", "fix_outcome_ts_idx"),
    ("rollup_problem_day", "rollup_problem_day_day_idx"),
    ("rollup_tenant_hour", "rollup_tenant_hour_day_idx"),
    ("rollup_tenant_day", "rollup_tenant_day_day_idx"),
    ("rollup_resolved_day", "rollup_resolved_day_day_idx"),
    ("rollup_recurrence_day", "rollup_recurrence_day_day_idx"),
    ("rollup_ttr_block", "rollup_ttr_block_block_idx"),
    ("rollup_ttr_episode", "rollup_ttr_episode_started_idx"),
    ("rollup_ttr_episode", "rollup_ttr_episode_resolved_idx"),
    ("rollup_ttr_episode", "rollup_ttr_episode_bucket_idx"),
    ("rollup_episode_day", "rollup_episode_day_end_covering_idx"),
    ("diag_run", "diag_run_ts_id_idx"),
    ("diag_run_archive", "diag_run_archive_ts_id_idx"),
}


def test_indexes_a_reader_can_reach_lead_with_tenant_but_the_documented_few(db):
    """An index on a table readers may select from leads with tenant, or is one of the documented exceptions."""
    rows = db.execute(
        # a day partition's index is named by the partitioned index it belongs to
        """SELECT coalesce(pc.relname, c.relname), coalesce(pi.relname, i.relname)
           FROM pg_index AS x
           JOIN pg_class AS i ON i.oid = x.indexrelid
           JOIN pg_class AS c ON c.oid = x.indrelid
           JOIN pg_namespace AS n ON n.oid = c.relnamespace
           LEFT JOIN pg_inherits AS hi ON hi.inhrelid = i.oid
           LEFT JOIN pg_class AS pi ON pi.oid = hi.inhparent
           LEFT JOIN pg_inherits AS hc ON hc.inhrelid = c.oid
           LEFT JOIN pg_class AS pc ON pc.oid = hc.inhparent
           WHERE n.nspname IN ('devdiag', 'devdiag_rollup', 'devdiag_part')
             AND c.relname <> 'settings'
             AND (has_table_privilege('devdiag_reader', c.oid, 'SELECT')
                  OR has_table_privilege('devdiag_analyst', c.oid, 'SELECT')
                  OR EXISTS (SELECT FROM pg_inherits AS h
                             JOIN pg_class AS p ON p.oid = h.inhparent
                             WHERE h.inhrelid = c.oid
                               AND has_table_privilege('devdiag_reader', p.oid, 'SELECT')))
             AND (x.indkey[0] = 0
                  OR (SELECT a.attname FROM pg_attribute AS a
                      WHERE a.attrelid = c.oid AND a.attnum = x.indkey[0]) <> 'tenant')""").fetchall()
    assert set(rows) == INDEXES_NOT_LEADING_WITH_TENANT


#: what readers, analysts and Tableau may look up in devdiag: the documented contract (README, docs/SCHEMA.md)
READER_CONTRACT = {
    "diag_run", "diag_run_archive", "fix_outcome", "settings",
    "v_run_all", "v_run_problem", "v_problem_counts", "v_fix_success", "v_fix_ranking", "v_env_diversity",
    "v_recent_activity", "v_ttr_episodes", "v_ttr_days", "v_open_problems", "v_problem_episodes",
    "v_episode_days", "v_recurrence_days", "v_ttr_blocks", "v_ttr_histogram", "v_tenant_health", "v_tenant_daily",
    "v_my_tenants",
}


@pytest.mark.parametrize("role", ["devdiag_reader", "devdiag_analyst"])
def test_readers_can_reach_only_the_documented_contract(db, role):
    """Every relation a reader or analyst may select from through a schema it can use is in the contract, and the
    rollups sit in a schema it cannot use (the views still read them under its own row policies)."""
    reachable = {r[0] for r in db.execute(
        """SELECT CASE n.nspname WHEN 'devdiag' THEN c.relname ELSE n.nspname || '.' || c.relname END
           FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND has_schema_privilege(%(role)s, n.oid, 'USAGE')
             AND (has_table_privilege(%(role)s, c.oid, 'SELECT')
                  OR c.relkind = 'S' AND has_sequence_privilege(%(role)s, c.oid, 'USAGE'))""",
        {"role": role}).fetchall()}
    assert reachable == READER_CONTRACT
    assert db.execute("SELECT has_schema_privilege(%s, 'devdiag_rollup', 'USAGE')", (role,)).fetchone() == (False,)
    assert db.execute(
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'devdiag_rollup'::regnamespace AND relname LIKE 'rollup%%'"
    ).fetchone()[0] >= 12
