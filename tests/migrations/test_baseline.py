"""The baseline: one step builds the schema the unreleased steps built, and a
database built by those steps is adopted only when its schema matches."""

from __future__ import annotations

import hashlib
import io

import psycopg
import pytest

from devdiag_warehouse import migrate as migrate_mod
from devdiag_warehouse.config import DevdiagError
from devdiag_warehouse.migrate import Migrator

#: a few of the unreleased steps' ids, ending where the baseline takes over
UNRELEASED = ["0001_create_devdiag_schema", "0002_create_diag_run", "0050_add_run_source_identity",
              migrate_mod.PRE_BASELINE_LAST]


def released_steps() -> list[str]:
    return sorted(p.name.removesuffix(".sql") for p in migrate_mod.MIGRATIONS_DIR.glob("*.sql")
                  if not p.name.endswith(".rollback.sql"))


def run(dsn: str, command: str = "apply") -> str:
    out = io.StringIO()
    with Migrator(dsn, out=out) as m:
        getattr(m, command)()
    return out.getvalue()


def catalog(conn) -> list[str]:
    with conn.transaction():
        conn.execute("SET LOCAL search_path TO pg_catalog")
        return [r[0] for r in conn.execute(migrate_mod.BASELINE_CATALOG_SQL.read_text()).fetchall()]


def records(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT migration_id FROM {migrate_mod.META_SCHEMA}._yoyo_migration ORDER BY 1").fetchall()]


def back_to_the_baseline(conn) -> None:
    """Undo the released steps after the baseline (their rollback files, newest first) and their records."""
    meta = migrate_mod.META_SCHEMA
    for path in sorted(migrate_mod.MIGRATIONS_DIR.glob("*.rollback.sql"), reverse=True):
        step = path.name.removesuffix(".rollback.sql")
        if step <= migrate_mod.BASELINE:
            continue
        conn.execute(path.read_text())
        conn.execute(f"DELETE FROM {meta}._yoyo_migration WHERE migration_id = %s", (step,))
        conn.execute(f"DELETE FROM {meta}.migration_checksum WHERE migration_id = %s", (step,))
    conn.commit()


def as_built_by_unreleased_steps(conn, steps: list[str]) -> None:
    """yoyo's books as the unreleased chain left them: its steps recorded, the baseline not, nothing after it."""
    back_to_the_baseline(conn)
    meta = migrate_mod.META_SCHEMA
    conn.execute(f"DELETE FROM {meta}._yoyo_migration WHERE migration_id = %s", (migrate_mod.BASELINE,))
    conn.execute(f"DELETE FROM {meta}.migration_checksum WHERE migration_id = %s", (migrate_mod.BASELINE,))
    for step in steps:
        digest = hashlib.sha256(step.encode()).hexdigest()
        conn.execute(f"INSERT INTO {meta}._yoyo_migration (migration_hash, migration_id, applied_at_utc) "
                     "VALUES (%s, %s, now())", (digest, step))
        conn.execute(f"INSERT INTO {meta}.migration_checksum (migration_id, sha256) VALUES (%s, %s)", (step, digest))
    conn.commit()


def test_the_baseline_builds_the_catalog_the_unreleased_steps_left(pg, fresh_db):
    """What the one step builds equals, line for line, what the unreleased steps built (the catalog file)."""
    expected = migrate_mod.BASELINE_CATALOG.read_text().splitlines()
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        back_to_the_baseline(conn)
        found = catalog(conn)
    assert len(expected) > 300
    assert [f"- {x}" for x in expected if x not in found] + [f"+ {x}" for x in found if x not in expected] == []
    assert found == sorted(found) and expected == sorted(expected)


def test_a_database_at_the_last_unreleased_step_is_adopted_keeping_its_rows(pg, fresh_db):
    """make migrate records the baseline in place of the unreleased steps, once; the runs stay."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems) "
                     "VALUES (now() - interval '1 hour', 'acme', repeat('ab', 16), '[\"CSP\"]')")
        conn.commit()
        as_built_by_unreleased_steps(conn, UNRELEASED)
    assert "make migrate adopts them" in run(dsn, "status")
    out = run(dsn)
    assert f"adopted: the schema built by {len(UNRELEASED)} unreleased steps" in out
    later = [s for s in released_steps() if s > migrate_mod.BASELINE]
    assert [ln.split()[1] for ln in out.splitlines() if ln.startswith("applying ")] == later
    with psycopg.connect(dsn) as conn:
        assert records(conn) == [migrate_mod.BASELINE, *later]
        assert conn.execute("SELECT count(*) FROM devdiag.diag_run").fetchone() == (1,)
    again = run(dsn)
    assert "adopted" not in again and "no pending migrations" in again
    assert run(dsn, "status").splitlines()[-1] == (
        f"summary: {1 + len(later)} applied, 0 pending, 0 edited after apply")


def test_a_database_whose_schema_differs_is_refused_naming_the_difference(pg, fresh_db):
    """A dropped index and an added column: refused, both named, and the books are left as they were."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP INDEX devdiag.fix_outcome_ts_idx")
        conn.execute("ALTER TABLE devdiag.job_log ADD COLUMN operator text")
        conn.commit()
        as_built_by_unreleased_steps(conn, UNRELEASED)
    with pytest.raises(DevdiagError) as exc:
        run(dsn)
    text = str(exc.value)
    assert "differs from what 0001_baseline builds" in text
    assert "- index devdiag.fix_outcome CREATE INDEX fix_outcome_ts_idx" in text
    assert "+ column devdiag.job_log 08 operator text" in text
    with psycopg.connect(dsn) as conn:
        assert records(conn) == sorted(UNRELEASED)


def test_a_database_at_an_older_unreleased_step_is_sent_to_the_tagged_commit_first(pg, fresh_db):
    """Steps stopped before the last unreleased one: the baseline cannot vouch for them; say what to run."""
    dsn = pg.dsn(fresh_db)
    with psycopg.connect(dsn) as conn:
        as_built_by_unreleased_steps(conn, UNRELEASED[:-1])
    with pytest.raises(DevdiagError, match=f"git checkout {migrate_mod.PRE_BASELINE_TAG}") as exc:
        run(dsn)
    assert "0050_add_run_source_identity" in str(exc.value)
