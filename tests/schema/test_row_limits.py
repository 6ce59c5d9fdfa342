"""Row limits: one definition (devdiag.row_limit), a named CHECK per limit on the
run tables (live and archive) and on fix outcomes; a row at the limit lands, one
byte over is refused with an error naming the limit."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from tests.schema.test_constraints import (
    GOOD_FIX,
    RUN_TABLES,
    assert_refused,
    insert,
    run_row,
)

LIMITS = {"tenant": 128, "problem_code": 256, "fix_code": 256, "env_fp": 512, "evidence": 32768}


def evidence_of(size: int) -> Jsonb:
    """An evidence object whose JSON text is exactly ``size`` bytes (as jsonb prints it)."""
    return Jsonb({"csp": "x" * (size - len('{"csp": ""}'))})


# (limit, column, value of exactly n bytes) for the run tables
RUN_CASES = [
    ("tenant", lambda n: {"tenant": "é" * (n // 2) + "t" * (n % 2)}),
    ("problem_code", lambda n: {"problems": Jsonb(["SHORT", "P" * n])}),
    ("env_fp", lambda n: {"env_fp": "e" * n}),
    ("evidence", lambda n: {"evidence": evidence_of(n)}),
]
FIX_CASES = [
    ("tenant", lambda n: {"tenant": "t" * n}),
    ("problem_code", lambda n: {"problem_code": "P" * n}),
    ("fix_code", lambda n: {"fix_code": "F" * n}),
    ("env_fp", lambda n: {"env_fp": "€" * (n // 3) + "e" * (n % 3)}),
]


def test_limits_have_one_definition_in_the_schema(db):
    """devdiag.row_limit answers every limit the checks and the sync use."""
    got = {k: db.execute("SELECT devdiag.row_limit(%s)", (k,)).fetchone()[0] for k in LIMITS}
    assert got == LIMITS


@pytest.mark.parametrize("table", RUN_TABLES)
@pytest.mark.parametrize("limit, make", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_run_over_a_limit_is_refused_naming_it(db, table, limit, make):
    """A run at the limit lands; one byte over is refused by <table>_<limit>_within_limit."""
    n = LIMITS[limit]
    insert(db, table, run_row(table, **make(n)))
    assert_refused(db, table, run_row(table, id=2, **make(n + 1)), f"{table}_{limit}_within_limit")


@pytest.mark.parametrize("limit, make", FIX_CASES, ids=[c[0] for c in FIX_CASES])
def test_fix_outcome_over_a_limit_is_refused_naming_it(db, limit, make):
    """A fix outcome at the limit lands; one byte over is refused by fix_outcome_<limit>_within_limit."""
    n = LIMITS[limit]
    insert(db, "fix_outcome", dict(GOOD_FIX, **make(n)))
    assert_refused(db, "fix_outcome", dict(GOOD_FIX, support=1, **make(n + 1)), f"fix_outcome_{limit}_within_limit")


def test_writer_gets_the_limit_error_not_a_permission_error(pg, session_db):
    """A writer's over-long run is refused by the check (the limit functions run as the writer)."""
    with psycopg.connect(pg.superuser_dsn(session_db)) as conn:
        conn.execute("SET ROLE devdiag_writer")
        insert(conn, "diag_run", run_row("diag_run", env_fp="e" * 512))
        with pytest.raises(errors.CheckViolation, match="diag_run_env_fp_within_limit"):
            insert(conn, "diag_run", run_row("diag_run", env_fp="e" * 4000))
        conn.rollback()


DIGEST_CANDIDATES = [
    "ab" * 16, "ab" * 64, "a" * 31, "ab" * 15 + "a", "a" * 33, "ab" * 64 + "a", "ab" * 65, "ab" * 15,
    "AB" * 16, "g" * 32, "ab" * 15 + "a ", "",
]


@pytest.mark.parametrize("table", RUN_TABLES)
def test_the_syncs_digest_pattern_accepts_exactly_what_the_tables_check_accepts(db, table):
    """The sync decides whether a target is a digest to keep or raw text to hash with the same rule the
    run tables' CHECK enforces: lowercase hex, even length, 32 to 128 characters."""
    from devdiag_warehouse.sync.base import HEX_DIGEST

    by_table, by_sync = {}, {}
    for n, value in enumerate(DIGEST_CANDIDATES, start=1):
        by_sync[value] = HEX_DIGEST.fullmatch(value) is not None
        try:
            with db.transaction():
                insert(db, table, run_row(table, id=n, target_hash=value))
            by_table[value] = True
        except (errors.CheckViolation, errors.NotNullViolation):
            by_table[value] = False
    assert by_sync == by_table
    assert sorted(v for v, ok in by_table.items() if ok) == sorted(["ab" * 16, "ab" * 64])
