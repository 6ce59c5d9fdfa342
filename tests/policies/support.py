"""Shared pieces of the tenant-isolation tests: the seeded tenants, the cast of
logins, and the catalog walks the attacker tests iterate over.

Three tenants are seeded: A (acme), the victim B, and W, whose name carries
quotes, a semicolon, an SQL comment and non-ASCII text.  Each tenant's rows
carry markers (tenant name, target hash, problem code, fix code, environment)
so a leak is found in any column of any relation, whatever the view computes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg.types.string import TextLoader

TENANT_A = "acme"
TENANT_B = "victim-b"
TENANT_W = "O'Brien\"; DROP TABLE devdiag.diag_run; -- Zürich 東京 ☃, \\ 'x'"

TENANTS = {"A": TENANT_A, "B": TENANT_B, "W": TENANT_W}
HASHES = {"A": "a1" * 32, "B": "deadbeef" * 8, "W": "c0ffee" * 8 + "0" * 16}

GROUP_ROLES = ["devdiag_owner", "devdiag_writer", "devdiag_reader", "devdiag_analyst", "devdiag_monitor"]

# Tables of devdiag and devdiag_rollup that hold no tenant rows (no row security); every other
# table must carry the tenant policies. A new table lands here only with a reason.
NON_TENANT_TABLES = {
    "settings": "operational knobs (retention, evidence keys, learning parameters)",
    "tenant_grant": "the role-to-tenant mapping itself; no role but the owner has any privilege on it",
    "sync_source": "one row per SQLite store and its watermark (sync)",
    "sync_run_lock": "one row per SQLite store, locked while a sync of it runs",
    "lock_slot": "one row per maintenance lock key (a tenant's rollups, a run table's partitions, the day mover)",
    "job_log": "counts per maintenance job run (retention)",
    "devdiag_rollup.rollup_registry": "one row per rollup fold (its function and the tables it keeps)",
    "devdiag_rollup.rollup_refresh_state": "the all-tenant refresh watermark (one row)",
    "devdiag_rollup.rollup_purged_day": "archive days purged and not yet out of the rollups (one row per day)",
}

# Views that must show tenant A's rows to A's reader with the seed below (so
# the isolation checks cannot pass on empty results).
SEEDED_READER_VIEWS = [
    "v_run_all", "v_run_problem", "v_problem_counts", "v_fix_success", "v_fix_ranking", "v_env_diversity",
    "v_recent_activity", "v_ttr_episodes", "v_ttr_days", "v_open_problems", "v_tenant_health", "v_my_tenants",
]
MONITOR_VIEWS = ["v_monitor_ingest_daily", "v_monitor_tables"]


def markers(label: str) -> list[str]:
    """Strings that appear only in the rows of one tenant."""
    return [TENANTS[label], HASHES[label], f"probe_{label}", f"fix_{label}", f"env_{label}"]


def leaked(rows, labels) -> list[str]:
    """The markers of the given tenants found in any cell of rows."""
    found = set()
    for row in rows:
        for cell in row:
            text = str(cell)
            for label in labels:
                for m in markers(label):
                    if m in text:
                        found.add(f"{label}:{m}")
    return sorted(found)


def seed(conn: psycopg.Connection) -> None:
    """Runs, archived runs and fix outcomes for A, B and W (caller commits).

    Per tenant: an episode opened 20 days ago and resolved the next day, one
    open since yesterday, an archived run, and a learned fix.
    """
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for n, (label, tenant) in enumerate(TENANTS.items()):
        h, probe, env = HASHES[label], f"probe_{label}", f"env_{label}"
        runs = [
            (now - timedelta(days=20), [probe], "full"),
            (now - timedelta(days=19), [], "full"),
            (now - timedelta(days=1), [probe], "embed"),
        ]
        for ts, problems, preset in runs:
            conn.execute(
                "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (ts, tenant, h, env, Jsonb(problems), Jsonb({"server": env}), preset))
        conn.execute(
            "INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, env_fp, problems, evidence, preset) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (900_000 + n, now - timedelta(days=400), tenant, h, env, Jsonb([probe]), Jsonb({}), "full"))
        conn.execute(
            "INSERT INTO devdiag.fix_outcome (ts, tenant, problem_code, fix_code, confidence, support, env_fp) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (now - timedelta(days=19), tenant, probe, f"fix_{label}", 0.9, 3, env))
    conn.execute("CALL devdiag.refresh_rollups()")


@dataclass
class Cast:
    """The logins of one test session, by part; names are unique to the run."""

    prefix: str
    names: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, part: str) -> str:
        return self.names[part]


def create_login(conn: psycopg.Connection, name: str, groups: list[str]) -> None:
    """CREATE ROLE ... LOGIN and grant group memberships, the way the README tells a DBA to."""
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    for g in groups:
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(g), sql.Identifier(name)))


def drop_role(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def relations(conn: psycopg.Connection, kinds: str = "rpvmf") -> list[tuple[str, str, bool]]:
    """Every relation of devdiag and devdiag_rollup: (name, relkind, has a tenant column).

    A relation of devdiag is named bare (``diag_run``), one of devdiag_rollup
    with its schema (``devdiag_rollup.rollup_problem_day``); ``ident`` quotes either.
    """
    return [tuple(r) for r in conn.execute(
        """SELECT CASE n.nspname WHEN 'devdiag' THEN c.relname ELSE n.nspname || '.' || c.relname END,
                  c.relkind::text,
                  EXISTS (SELECT FROM pg_attribute AS a
                          WHERE a.attrelid = c.oid AND a.attname = 'tenant' AND NOT a.attisdropped)
           FROM pg_class AS c
           JOIN pg_namespace AS n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('devdiag', 'devdiag_rollup') AND c.relkind = ANY (%s)
           ORDER BY n.nspname, c.relname""", (list(kinds),)).fetchall()]


def schema_and_name(name: str) -> tuple[str, str]:
    """(schema, relation) of a name of ``relations``."""
    schema, _, rel = name.rpartition(".")
    return schema or "devdiag", rel


def ident(name: str) -> sql.Identifier:
    """The quoted relation a name of ``relations`` stands for."""
    return sql.Identifier(*schema_and_name(name))


def select_all(conn: psycopg.Connection, relname: str):
    """All rows of devdiag.<relname>, or None when the caller may not read it."""
    try:
        with conn.transaction():
            cur = conn.cursor()
            # dates as text: rollup_episode_day keeps open episodes under 'infinity', which Python's date has not
            cur.adapters.register_loader("date", TextLoader)
            return cur.execute(sql.SQL("SELECT * FROM {}").format(ident(relname))).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return None


def tenants_of(conn: psycopg.Connection, relname: str) -> set[str] | None:
    """Distinct tenants of a relation with a tenant column, or None when refused."""
    try:
        with conn.transaction():
            return {r[0] for r in conn.execute(sql.SQL("SELECT DISTINCT tenant FROM {}").format(
                ident(relname))).fetchall()}
    except psycopg.errors.InsufficientPrivilege:
        return None


class _NotRefused(Exception):
    pass


@contextlib.contextmanager
def refused(conn: psycopg.Connection, what: str = "statement"):
    """Assert the block raises a permission error; nothing it did is kept."""
    try:
        with conn.transaction():
            yield
            raise _NotRefused
    except psycopg.errors.InsufficientPrivilege:
        return
    except _NotRefused:
        raise AssertionError(f"{what} was not refused") from None
