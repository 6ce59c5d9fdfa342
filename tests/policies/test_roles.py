"""The other roles: the writer ingests for any tenant and reads no view, the
analyst reads every tenant and writes nothing, monitoring reads aggregates only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from tests.policies.support import (
    ident,
    HASHES,
    MONITOR_VIEWS,
    SEEDED_READER_VIEWS,
    TENANT_A,
    TENANT_B,
    TENANT_W,
    TENANTS,
    leaked,
    refused,
    relations,
    select_all,
    tenants_of,
)

CONTRACT_INSERT = (
    "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


# -- writer --------------------------------------------------------------------

def test_writer_inserts_runs_and_fix_outcomes_for_any_tenant(cast, connect_as):
    """The writers' INSERT works as written for A, B and W; fix outcomes upsert; a re-sent run is skipped."""
    conn = connect_as(cast["writer"])
    now = datetime.now(timezone.utc)
    with conn.transaction(force_rollback=True):
        for label, tenant in TENANTS.items():
            conn.execute(CONTRACT_INSERT, (now, tenant, HASHES[label], "w-env", Jsonb(["w_probe"]), Jsonb({}), "app"))
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run WHERE env_fp = 'w-env'").fetchone() == (3,)
        run_id, run_ts = conn.execute(
            "INSERT INTO devdiag.diag_run (tenant, target_hash) VALUES (%s, %s) RETURNING id, ts",
            (TENANT_B, HASHES["B"])).fetchone()
        # the key of a table partitioned by day includes ts: a re-sent run carries its own
        skipped = conn.execute(
            "INSERT INTO devdiag.diag_run (id, ts, tenant, target_hash) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (tenant, id, ts) DO NOTHING", (run_id, run_ts, TENANT_B, HASHES["B"]))
        assert skipped.rowcount == 0
        upsert = ("INSERT INTO devdiag.fix_outcome (tenant, problem_code, fix_code, confidence, support, env_fp) "
                  "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT ON CONSTRAINT fix_outcome_pair_unique "
                  "DO UPDATE SET support = devdiag.fix_outcome.support + EXCLUDED.support, "
                  "confidence = EXCLUDED.confidence, ts = now() RETURNING support")
        assert conn.execute(upsert, (TENANT_B, "probe_B", "fix_B", 0.8, 1, "env_B")).fetchone() == (4,)
        assert conn.execute(upsert, (TENANT_W, "w_probe", "w_fix", 0.5, 1, None)).fetchone() == (1,)


def test_writer_cannot_delete_truncate_archive_or_touch_the_mapping_and_settings(cast, connect_as):
    """Ingestion adds and updates; it never deletes, truncates, archives, maps tenants or changes settings."""
    conn = connect_as(cast["writer"])
    for stmt in [
        "DELETE FROM devdiag.diag_run",
        "DELETE FROM devdiag.fix_outcome",
        "TRUNCATE devdiag.diag_run",
        "UPDATE devdiag.diag_run SET tenant = tenant",
        "INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, problems, evidence) "
        "VALUES (1, now(), 'acme', repeat('a', 64), '[]', '{}')",
        "DELETE FROM devdiag.diag_run_archive",
        "SELECT * FROM devdiag.tenant_grant",
        "UPDATE devdiag.settings SET value = '1'",
    ]:
        with refused(conn, stmt):
            conn.execute(stmt)
    assert select_all(conn, "settings")


def test_writer_reads_no_view(cast, connect_as):
    """A writer credential is for ingestion: every view of devdiag refuses it."""
    conn = connect_as(cast["writer"])
    readable = [n for n, _, _ in relations(conn, "vm") if select_all(conn, n) is not None]
    assert readable == []


@pytest.mark.parametrize("part", ["writer", "reader_a", "analyst", "monitor", "nobody"])
@pytest.mark.parametrize("count", ["rollup_pending_runs()", "rollup_pending_estimate()"])
def test_only_the_owner_counts_the_runs_each_tenant_has_to_fold(cast, connect_as, part, count):
    """The count per tenant of runs waiting for a refresh names every tenant: no login but the owner's gets it."""
    conn = connect_as(cast[part])
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"SELECT * FROM devdiag.{count}")


# -- analyst -------------------------------------------------------------------

def test_analyst_sees_every_tenant_in_every_table_and_view_it_may_read(cast, connect_as, dba):
    """The analyst gets exactly the rows the owner sees, for every relation it may read."""
    conn = connect_as(cast["analyst"])
    differs = {}
    for name, _, _ in relations(conn):
        rows = select_all(conn, name)
        if rows is None:
            continue
        owner_rows = select_all(dba, name)
        if sorted(map(repr, rows)) != sorted(map(repr, owner_rows)):
            differs[name] = (len(rows), len(owner_rows))
    assert differs == {}
    for name in ["diag_run", "diag_run_archive", "fix_outcome", *SEEDED_READER_VIEWS[:-1]]:
        assert tenants_of(conn, name) >= {TENANT_A, TENANT_B, TENANT_W}, name


def test_analyst_writes_nothing(cast, connect_as):
    """INSERT, UPDATE, DELETE and TRUNCATE are refused to the analyst on every table."""
    conn = connect_as(cast["analyst"])
    for name, _, _ in relations(conn, "rp"):
        rel = ident(name)
        for stmt in [sql.SQL("INSERT INTO {} DEFAULT VALUES").format(rel), sql.SQL("DELETE FROM {}").format(rel),
                     sql.SQL("TRUNCATE {}").format(rel)]:
            with refused(conn, f"{name}: {stmt.as_string(conn)}"):
                conn.execute(stmt)
    with refused(conn, "UPDATE diag_run"):
        conn.execute("UPDATE devdiag.diag_run SET tenant = tenant")
    with refused(conn, "grant_tenant"):
        conn.execute("SELECT devdiag.grant_tenant(%s, %s)", (cast["analyst"], TENANT_B))


def test_current_tenant_narrows_the_analyst_to_one_tenant(cast, connect_as):
    """Initial SQL setting app.current_tenant narrows an analyst's dashboards to that tenant."""
    conn = connect_as(cast["analyst"])
    conn.execute("SELECT set_config('app.current_tenant', %s, false)", (TENANT_W,))
    for name in ["diag_run", "v_problem_counts", "v_tenant_health", "v_ttr_days"]:
        assert tenants_of(conn, name) == {TENANT_W}, name
    conn.execute("RESET app.current_tenant")
    assert tenants_of(conn, "v_tenant_health") >= {TENANT_A, TENANT_B, TENANT_W}


# -- monitoring ----------------------------------------------------------------

def test_monitor_reads_ingest_counts_without_tenant_names_or_hashes(cast, connect_as, dba):
    """v_monitor_ingest_daily has one zero-filled row per UTC day, yesterday's counts match the runs,
    and no cell holds a tenant name, target hash or other tenant marker."""
    conn = connect_as(cast["monitor"])
    rows = conn.execute("SELECT * FROM devdiag.v_monitor_ingest_daily ORDER BY day").fetchall()
    cols = [c.name for c in conn.execute("SELECT * FROM devdiag.v_monitor_ingest_daily LIMIT 0").description]
    assert "tenant" not in cols and "target_hash" not in cols
    assert len(rows) == 14
    assert leaked(rows, ["A", "B", "W"]) == []
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date()
    by_day = {r[0]: r for r in rows}
    expected = dba.execute(
        """SELECT count(*), count(DISTINCT tenant), count(DISTINCT target_hash) FROM devdiag.diag_run
           WHERE devdiag.utc_day(ts) = %s""", (yesterday,)).fetchone()
    day, runs, problem_runs, tenants, targets, envs, last = by_day[yesterday]
    assert (runs, tenants, targets) == expected and runs >= 3


def test_monitor_reads_table_freshness_without_row_content(cast, connect_as, dba):
    """v_monitor_tables gives each tenant table's newest ts (what an ingest alert needs) and nothing else."""
    conn = connect_as(cast["monitor"])
    rows = {r[0]: r for r in conn.execute("SELECT * FROM devdiag.v_monitor_tables").fetchall()}
    assert set(rows) == {"diag_run", "diag_run_archive", "fix_outcome"}
    newest = dba.execute("SELECT max(ts) FROM devdiag.diag_run").fetchone()[0]
    assert rows["diag_run"][2] == newest
    assert leaked(rows.values(), ["A", "B", "W"]) == []


def test_monitor_reads_nothing_but_the_monitoring_views(cast, connect_as, dba):
    """Every table and every view not named v_monitor_* refuses monitoring, what it reads holds no tenant
    marker, and it may execute only the monitor_* functions behind those views."""
    conn = connect_as(cast["monitor"])
    readable = {}
    for name, _, _ in relations(conn):
        rows = select_all(conn, name)
        if rows is not None:
            readable[name] = rows
    assert set(MONITOR_VIEWS) <= set(readable)
    assert [n for n in readable if not n.startswith("v_monitor_")] == []
    assert {n: leaked(rows, ["A", "B", "W"]) for n, rows in readable.items() if leaked(rows, ["A", "B", "W"])} == {}
    executable = {r[0] for r in dba.execute(
        """SELECT proname FROM pg_proc WHERE pronamespace = 'devdiag'::regnamespace
           AND has_function_privilege(%s, oid, 'EXECUTE')""", (cast["monitor"],)).fetchall()}
    assert {"monitor_ingest_daily", "monitor_tables"} <= executable
    assert [f for f in executable if not f.startswith("monitor_")] == []


@pytest.mark.parametrize("part", ["reader_a", "analyst", "writer"])
def test_only_monitoring_reads_the_monitoring_views(cast, connect_as, part):
    """The cross-tenant counts are refused to readers, analysts and writers (they lack EXECUTE on the functions)."""
    conn = connect_as(cast[part])
    views = [n for n, _, _ in relations(conn, "v") if n.startswith("v_monitor_")]
    assert set(MONITOR_VIEWS) <= set(views)
    for view in views:
        assert select_all(conn, view) is None, view
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM devdiag.monitor_ingest_daily(366)")
