"""The contract that writers, Tableau and psql users rely on."""

from __future__ import annotations

import json

import pytest
from psycopg.types.json import Jsonb

HASH = "c0ffee00" * 8

CONTRACT_INSERT = (
    "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)

CONTRACT_VIEWS = {
    "v_problem_counts": ["day", "tenant", "problem_code", "runs"],
    "v_fix_success": ["tenant", "problem_code", "fix_code", "successes", "avg_confidence", "last_success"],
    "v_fix_ranking": ["tenant", "problem_code", "fix_code", "successes", "avg_confidence", "rank"],
    "v_env_diversity": ["tenant", "problem_code", "unique_environments", "total_runs"],
    "v_recent_activity": ["tenant", "target_hash", "ts", "problem_count", "problems", "preset"],
    "v_ttr_days": ["tenant", "problem_code", "target_hash", "first_seen_day", "first_zero_day", "ttr_days",
                   "ttr_hours", "started_at", "resolved_at"],
    "v_open_problems": ["tenant", "target_hash", "problem_code", "started_at", "last_seen", "age_days"],
    "v_tenant_health": ["tenant", "runs_7d", "active_problems", "fix_success_rate", "avg_ttr_days"],
}


def test_contract_insert_with_literals_works_as_written(db):
    """The writers' INSERT, with the literal values a DevDiag writer sends, stores one run."""
    db.execute(
        "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
        "VALUES (now(), 'acme', 'c0ffee00c0ffee00c0ffee00c0ffee00', 'chrome-126/linux', "
        "'[\"csp_blocks_iframe\"]', '{\"csp\": \"frame-ancestors none\"}', 'embed')"
    )
    row = db.execute("SELECT tenant, problems, evidence, preset FROM devdiag.diag_run").fetchone()
    assert row == ("acme", ["csp_blocks_iframe"], {"csp": "frame-ancestors none"}, "embed")


@pytest.mark.parametrize("as_text", [False, True], ids=["jsonb_params", "json_text_params"])
def test_contract_insert_with_parameters_works_as_written(db, as_text):
    """The same INSERT with bound parameters (JSON as jsonb or as text) stores the run unchanged."""
    problems, evidence = ["xfo_deny", "csp_blocks_iframe"], {"xfo": "DENY"}
    params = (json.dumps(problems), json.dumps(evidence)) if as_text else (Jsonb(problems), Jsonb(evidence))
    db.execute(CONTRACT_INSERT, ("2024-06-14 23:59:59+00", "acme", HASH, None, *params, None))
    row = db.execute("SELECT ts::text, env_fp, problems, evidence, preset FROM devdiag.diag_run").fetchone()
    assert row == ("2024-06-14 23:59:59+00", None, problems, evidence, None)


@pytest.mark.parametrize(("table", "column"), [
    ("diag_run", "ts"), ("diag_run_archive", "ts"), ("diag_run_archive", "archived_at"), ("fix_outcome", "ts"),
])
def test_time_columns_are_timestamptz(db, table, column):
    """Every stored instant is timestamptz, so no writer's zone shifts a UTC day."""
    row = db.execute(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_schema = 'devdiag' AND table_name = %s AND column_name = %s", (table, column)).fetchone()
    assert row == ("timestamp with time zone",)


def test_archive_has_every_column_of_diag_run_plus_archived_at(db):
    """diag_run_archive can hold any run unchanged: each diag_run column exists there with the same type."""
    def columns(table):
        return dict(db.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'devdiag' AND table_name = %s", (table,)).fetchall())
    live, archive = columns("diag_run"), columns("diag_run_archive")
    assert {c: t for c, t in archive.items() if c in live} == live
    assert archive["archived_at"] == "timestamp with time zone"


def test_every_view_has_a_comment(db):
    """Analysts see what each view means in Tableau and psql: no view of devdiag lacks COMMENT ON."""
    rows = db.execute(
        "SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '') "
        "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'devdiag' AND c.relkind IN ('v', 'm') ORDER BY 1").fetchall()
    assert {name for name, _ in rows} >= set(CONTRACT_VIEWS)
    assert [name for name, comment in rows if len(comment.strip()) < 20] == []


@pytest.mark.parametrize("view", sorted(CONTRACT_VIEWS))
def test_contract_view_has_the_contract_columns(db, view):
    """Each contract view exposes the issue's column names (extra columns are allowed)."""
    names = [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'devdiag' AND table_name = %s ORDER BY ordinal_position", (view,))]
    assert [c for c in CONTRACT_VIEWS[view] if c not in names] == []
    assert names[:len(CONTRACT_VIEWS[view])] == CONTRACT_VIEWS[view]
