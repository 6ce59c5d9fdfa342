"""Every constraint of the warehouse tables refuses a bad row, and says which constraint did.

Each case starts from a row that is accepted (``test_good_row_is_accepted``
proves it) and changes one column, so the refusal can only come from the
constraint the case names.  diag_run and diag_run_archive carry the same
checks; every run case is asserted on both tables.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.types.json import Jsonb

HASH = "0123456789abcdef" * 4  # a sha256-shaped lowercase hex digest

GOOD_RUN = {
    "ts": "2024-06-14 12:00:00+00",
    "tenant": "acme",
    "target_hash": HASH,
    "env_fp": "env-1",
    "problems": Jsonb(["csp_blocks_iframe"]),
    "evidence": Jsonb({"csp": "frame-ancestors 'self'"}),
    "preset": "chat",
}

GOOD_FIX = {
    "tenant": "acme",
    "problem_code": "csp_blocks_iframe",
    "fix_code": "relax_frame_ancestors",
    "confidence": 0.75,
    "support": 3,
    "env_fp": "env-1",
}

RUN_TABLES = ["diag_run", "diag_run_archive"]


def insert(conn: psycopg.Connection, table: str, row: dict) -> None:
    """INSERT one row; column names are identifiers, values are parameters."""
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier("devdiag", table),
            sql.SQL(", ").join(sql.Identifier(c) for c in row),
            sql.SQL(", ").join(sql.Placeholder() for _ in row),
        ),
        list(row.values()),
    )


def run_row(table: str, **changes) -> dict:
    row = dict(GOOD_RUN, **changes)
    if table == "diag_run_archive":
        row.setdefault("id", 1)  # the archive keeps the live row's id; it has no default
    return row


def assert_refused(conn, table, row, constraint, error=errors.CheckViolation) -> None:
    with pytest.raises(error) as exc:
        insert(conn, table, row)
    assert exc.value.diag.constraint_name == constraint
    assert constraint in str(exc.value)


# (case id, column changes, constraint suffix) for both run tables
BAD_RUNS = [
    ("problems_is_an_object", {"problems": Jsonb({"csp_blocks_iframe": True})}, "problems_is_array_of_strings"),
    ("problems_is_a_string", {"problems": Jsonb("csp_blocks_iframe")}, "problems_is_array_of_strings"),
    ("problems_is_json_null", {"problems": Jsonb(None)}, "problems_is_array_of_strings"),
    ("problems_holds_a_number", {"problems": Jsonb(["csp_blocks_iframe", 42])}, "problems_is_array_of_strings"),
    ("problems_holds_json_null", {"problems": Jsonb([None])}, "problems_is_array_of_strings"),
    ("problems_holds_an_object", {"problems": Jsonb([{"code": "x"}])}, "problems_is_array_of_strings"),
    ("problems_holds_a_boolean", {"problems": Jsonb([True])}, "problems_is_array_of_strings"),
    ("problems_holds_an_empty_string", {"problems": Jsonb(["csp_blocks_iframe", ""])}, "problems_is_array_of_strings"),
    ("evidence_is_an_array", {"evidence": Jsonb(["csp"])}, "evidence_is_object"),
    ("evidence_is_a_string", {"evidence": Jsonb("csp")}, "evidence_is_object"),
    ("evidence_is_json_null", {"evidence": Jsonb(None)}, "evidence_is_object"),
    ("tenant_is_empty", {"tenant": ""}, "tenant_not_empty"),
    ("tenant_is_only_whitespace", {"tenant": " \t "}, "tenant_not_empty"),
    ("ts_is_infinity", {"ts": "infinity"}, "ts_is_finite"),
    ("target_hash_has_odd_length", {"target_hash": HASH[:33]}, "target_hash_is_lowercase_hex_digest"),
    ("target_hash_is_a_raw_url", {"target_hash": "https://shop.example.com/checkout"},
     "target_hash_is_lowercase_hex_digest"),
    ("target_hash_is_uppercase_hex", {"target_hash": HASH.upper()}, "target_hash_is_lowercase_hex_digest"),
    ("target_hash_is_too_short", {"target_hash": HASH[:31]}, "target_hash_is_lowercase_hex_digest"),
    ("target_hash_is_too_long", {"target_hash": "a" * 129}, "target_hash_is_lowercase_hex_digest"),
    ("target_hash_has_a_trailing_newline", {"target_hash": HASH + "\n"}, "target_hash_is_lowercase_hex_digest"),
    ("target_hash_is_empty", {"target_hash": ""}, "target_hash_is_lowercase_hex_digest"),
    ("preset_is_unknown", {"preset": "mobile"}, "preset_known"),
    ("preset_is_capitalised", {"preset": "Chat"}, "preset_known"),
    ("preset_is_empty", {"preset": ""}, "preset_known"),
]

# (case id, column changes, constraint) for fix_outcome
BAD_FIXES = [
    ("confidence_above_one", {"confidence": 1.0001}, "fix_outcome_confidence_in_unit_interval"),
    ("confidence_below_zero", {"confidence": -0.01}, "fix_outcome_confidence_in_unit_interval"),
    ("confidence_is_nan", {"confidence": float("nan")}, "fix_outcome_confidence_in_unit_interval"),
    ("confidence_is_infinite", {"confidence": float("inf")}, "fix_outcome_confidence_in_unit_interval"),
    ("support_is_negative", {"support": -1}, "fix_outcome_support_not_negative"),
    ("tenant_is_empty", {"tenant": ""}, "fix_outcome_tenant_not_empty"),
    ("tenant_is_only_whitespace", {"tenant": "  "}, "fix_outcome_tenant_not_empty"),
    ("ts_is_minus_infinity", {"ts": "-infinity"}, "fix_outcome_ts_is_finite"),
    ("problem_code_is_empty", {"problem_code": ""}, "fix_outcome_problem_code_not_empty"),
    ("fix_code_is_empty", {"fix_code": ""}, "fix_outcome_fix_code_not_empty"),
]


@pytest.mark.parametrize("table", RUN_TABLES)
def test_good_run_row_is_accepted(db, table):
    """The base row every run case starts from is accepted, so each refusal is the changed column's."""
    # Explicit ids: earlier tests may have moved the identity sequence onto 2, 3 or 4.
    insert(db, table, run_row(table, id=1))
    insert(db, table, run_row(table, id=2, preset=None, env_fp=None, problems=Jsonb([]), evidence=Jsonb({})))
    insert(db, table, run_row(table, id=3, target_hash="f" * 32, preset="full"))
    insert(db, table, run_row(table, id=4, target_hash="0" * 128, preset="embed"))
    table_id = sql.Identifier("devdiag", table)
    assert db.execute(sql.SQL("SELECT count(*) FROM {}").format(table_id)).fetchone() == (4,)


@pytest.mark.parametrize("table", RUN_TABLES)
@pytest.mark.parametrize(("changes", "suffix"), [c[1:] for c in BAD_RUNS], ids=[c[0] for c in BAD_RUNS])
def test_bad_run_row_is_refused_naming_the_constraint(db, table, changes, suffix):
    """A run row with one bad column is refused by the named CHECK constraint of either table."""
    assert_refused(db, table, run_row(table, **changes), f"{table}_{suffix}")


@pytest.mark.parametrize("table", RUN_TABLES)
def test_problems_holding_a_nested_array_is_refused(db, table):
    """problems = [["csp"]] is not an array of strings and must be refused."""
    assert_refused(db, table, run_row(table, problems=Jsonb([["csp_blocks_iframe"]])),
                   f"{table}_problems_is_array_of_strings")


@pytest.mark.parametrize("table", RUN_TABLES)
@pytest.mark.parametrize("column", ["ts", "tenant", "target_hash", "problems", "evidence"])
def test_run_row_without_a_required_column_is_refused(db, table, column):
    """Explicit NULLs in required run columns are refused (NOT NULL)."""
    with pytest.raises(errors.NotNullViolation) as exc:
        insert(db, table, run_row(table, **{column: None}))
    assert exc.value.diag.column_name == column


def assert_key_refused(conn, table, row, key) -> None:
    """A duplicate is refused by the day partition's index of ``key`` (unique indexes of partitions are their own)."""
    with pytest.raises(errors.UniqueViolation) as exc:
        insert(conn, table, row)
    conn.rollback()
    parent = conn.execute(
        "SELECT i.inhparent = to_regclass(%s) FROM pg_inherits AS i WHERE i.inhrelid = to_regclass(%s)",
        (f"devdiag.{key}", f"devdiag_part.{exc.value.diag.constraint_name}")).fetchone()
    assert parent == (True,)


def test_run_primary_key_refuses_a_second_row_with_the_same_tenant_id_and_ts(db):
    """diag_run_pkey: (tenant, id, ts) identifies a run (a key of a table partitioned by day includes ts)."""
    insert(db, "diag_run", run_row("diag_run", id=10))
    assert_key_refused(db, "diag_run", run_row("diag_run", id=10), "diag_run_pkey")


def test_archive_primary_key_refuses_archiving_a_run_twice(db):
    """diag_run_archive_pkey: a run is archived once."""
    insert(db, "diag_run_archive", run_row("diag_run_archive", id=10))
    assert_key_refused(db, "diag_run_archive", run_row("diag_run_archive", id=10), "diag_run_archive_pkey")


def test_good_fix_rows_are_accepted(db):
    """The base fix row, and the bounds confidence 0 and 1 and support 0, are accepted."""
    insert(db, "fix_outcome", GOOD_FIX)
    insert(db, "fix_outcome", dict(GOOD_FIX, env_fp="env-2", confidence=0.0, support=0))
    insert(db, "fix_outcome", dict(GOOD_FIX, env_fp=None, confidence=1.0))
    assert db.execute("SELECT count(*) FROM devdiag.fix_outcome").fetchone() == (3,)


@pytest.mark.parametrize(("changes", "constraint"), [c[1:] for c in BAD_FIXES], ids=[c[0] for c in BAD_FIXES])
def test_bad_fix_row_is_refused_naming_the_constraint(db, changes, constraint):
    """A fix_outcome row with one bad column is refused by the named CHECK constraint."""
    assert_refused(db, "fix_outcome", dict(GOOD_FIX, **changes), constraint)


@pytest.mark.parametrize("env_fp", ["env-1", None], ids=["env_fp_set", "env_fp_null"])
def test_second_row_for_the_same_fix_pair_is_refused(db, env_fp):
    """fix_outcome_pair_unique: one row per (tenant, problem, fix, env_fp), NULL env_fp included."""
    insert(db, "fix_outcome", dict(GOOD_FIX, env_fp=env_fp))
    assert_refused(db, "fix_outcome", dict(GOOD_FIX, env_fp=env_fp, confidence=0.5),
                   "fix_outcome_pair_unique", errors.UniqueViolation)


def test_same_fix_pair_is_accepted_for_another_tenant_or_environment(db):
    """The uniqueness is per tenant and environment, not global."""
    insert(db, "fix_outcome", GOOD_FIX)
    insert(db, "fix_outcome", dict(GOOD_FIX, tenant="globex"))
    insert(db, "fix_outcome", dict(GOOD_FIX, env_fp="env-2"))
    insert(db, "fix_outcome", dict(GOOD_FIX, env_fp=None))
    assert db.execute("SELECT count(*) FROM devdiag.fix_outcome").fetchone() == (4,)
