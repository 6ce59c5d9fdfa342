"""The schema stays ready to distribute by tenant (Citus): checked over the catalog."""

from __future__ import annotations

TENANT_TABLES = """
    SELECT c.oid, c.relname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant' AND NOT a.attisdropped
    WHERE n.nspname = 'devdiag' AND c.relkind IN ('r', 'p')
"""


def test_every_tenant_table_has_a_primary_key(db):
    """A distributed table needs a primary key that Citus can route: every tenant table has one."""
    missing = db.execute(f"""
        SELECT t.relname FROM ({TENANT_TABLES}) t
        WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = t.oid AND k.contype = 'p')
        ORDER BY 1""").fetchall()
    assert missing == []


def test_every_key_and_unique_index_of_a_tenant_table_includes_tenant(db):
    """Primary keys, unique constraints and unique indexes of tenant tables all include tenant."""
    offenders = db.execute(f"""
        SELECT t.relname, i.indexrelid::regclass::text
        FROM ({TENANT_TABLES}) t
        JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_attribute a
            WHERE a.attrelid = t.oid AND a.attname = 'tenant' AND a.attnum = ANY (i.indkey::smallint[]))
        ORDER BY 1, 2""").fetchall()
    assert offenders == []


def test_every_foreign_key_between_tenant_tables_includes_tenant(db):
    """Foreign keys from a tenant table to another tenant table are co-located by tenant."""
    offenders = db.execute(f"""
        SELECT k.conname
        FROM pg_constraint k
        JOIN ({TENANT_TABLES}) src ON src.oid = k.conrelid
        JOIN ({TENANT_TABLES}) dst ON dst.oid = k.confrelid
        WHERE k.contype = 'f' AND NOT EXISTS (
            SELECT 1 FROM pg_attribute a
            WHERE a.attrelid = k.conrelid AND a.attname = 'tenant' AND a.attnum = ANY (k.conkey))
        ORDER BY 1""").fetchall()
    assert offenders == []


def test_the_check_sees_the_run_tables(db):
    """The catalog query finds the tenant tables (so the checks above cannot pass vacuously)."""
    names = {r[1] for r in db.execute(TENANT_TABLES).fetchall()}
    assert {"diag_run", "diag_run_archive", "fix_outcome"} <= names
