"""Health checks return status rows that turn from ok to warn or fail when they should."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import psycopg
import pytest

from tests.plans import planned_partitions

HEALTH = Path(__file__).resolve().parents[2] / "sql" / "health"
COLUMNS = ["check_name", "subject", "status", "value", "detail"]


def check(db, name: str) -> list[dict]:
    (path,) = [p for p in HEALTH.glob("*.sql") if p.stem.split("_", 1)[1] == name]
    cur = db.execute(path.read_text())
    assert [d.name for d in cur.description] == COLUMNS
    return [dict(zip(COLUMNS, r)) for r in cur.fetchall()]


def statuses(db, name: str) -> list[str]:
    return [r["status"] for r in check(db, name)]


def add_run(db, ago: str) -> None:
    db.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                  VALUES (now() - %s::interval, 'acme', %s, '[]', 'app')""",
               (ago, hashlib.sha256(ago.encode()).hexdigest()))


def test_every_health_file_says_what_it_checks_and_returns_the_common_columns(db):
    """Each file opens with 'Checks:' and returns (check_name, subject, status, value, detail)."""
    paths = sorted(HEALTH.glob("*.sql"))
    assert len(paths) >= 6
    for path in paths:
        assert path.read_text().startswith("-- Checks: "), path.name
        rows = check(db, path.stem.split("_", 1)[1])
        assert rows and all(r["status"] in ("ok", "warn", "fail") for r in rows), path.name


@pytest.mark.parametrize("ago, expected", [
    (None, "fail"), ("10 minutes", "ok"), ("3 hours", "warn"), ("2 days", "fail"),
])
def test_freshness_grades_the_age_of_the_newest_run(db, ago, expected):
    """Newest run within 2 hours is ok, within a day warn, older (or none) fail."""
    if ago:
        add_run(db, ago)
    assert statuses(db, "freshness") == [expected]


def test_runs_today_is_ok_with_runs_warn_after_a_day_with_runs_and_fail_after_none(db):
    """A quiet day after a busy one warns; two quiet days fail; a run today is ok."""
    assert statuses(db, "runs_today") == ["fail"]
    db.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                  VALUES (devdiag.utc_day(now())::timestamp AT TIME ZONE 'UTC' - interval '1 hour',
                          'acme', repeat('b', 64), '[]', 'app')""")
    assert statuses(db, "runs_today") == ["warn"]
    add_run(db, "0 minutes")
    assert check(db, "runs_today")[0]["value"] == 1 and statuses(db, "runs_today") == ["ok"]


def test_runs_today_plans_only_the_last_days(db):
    """runs_today counts today's and yesterday's raw runs; the old day partitions of a long history are left out
    when it is planned, not only when it starts."""
    db.execute("SELECT devdiag.ensure_run_partitions(now() - interval '40 days', now() + interval '2 days')")
    floor = db.execute("SELECT devdiag.run_window_floor(interval '48 hours')").fetchone()[0]
    days = [r[0] for r in db.execute("SELECT * FROM devdiag.run_partition_days('devdiag.diag_run')")]
    may_hold = sum(1 for d in days if dt.datetime.combine(d, dt.time(), dt.timezone.utc) + dt.timedelta(days=1) > floor)
    assert len(days) - may_hold >= 35  # premise: most days lie before the floor
    shown, removed = planned_partitions(db, (HEALTH / "110_runs_today.sql").read_text())
    # those days and the DEFAULT partition, at most
    assert len(shown) + removed <= may_hold + 1


def test_retention_fails_when_live_runs_outlive_retention_days(db):
    """A live run older than retention_days plus two days means retention is not running."""
    add_run(db, "100 days")
    assert statuses(db, "retention") == ["ok"]
    add_run(db, "183 days")
    assert statuses(db, "retention") == ["fail"]
    db.execute("UPDATE devdiag.settings SET value = '365' WHERE key = 'retention_days'")
    assert statuses(db, "retention") == ["ok"]


def test_views_present_names_a_missing_contract_view(db):
    """All contract views are present after migrate; dropping one fails exactly that row."""
    rows = check(db, "views_present")
    assert len(rows) == 8 and {r["status"] for r in rows} == {"ok"}
    db.execute("DROP VIEW devdiag.v_tenant_health CASCADE")
    failed = [r["subject"] for r in check(db, "views_present") if r["status"] == "fail"]
    assert failed == ["devdiag.v_tenant_health"]


def test_indexes_present_fails_without_the_target_index(db):
    """Without diag_run's (tenant, target_hash, ts, id) index, that requirement fails; the others stay ok."""
    assert set(statuses(db, "indexes_present")) == {"ok"}
    db.execute("DROP INDEX devdiag.diag_run_tenant_target_ts_idx")
    failed = [r["subject"] for r in check(db, "indexes_present") if r["status"] == "fail"]
    assert failed == ["devdiag.diag_run (tenant, target_hash)"]


def test_indexes_present_fails_without_the_archive_target_index(db):
    """The archive's lookup by tenant and target (the episode replay's, for late runs) is required."""
    assert set(statuses(db, "indexes_present")) == {"ok"}
    db.execute("DROP INDEX devdiag.diag_run_archive_tenant_target_ts_idx")
    failed = [r["subject"] for r in check(db, "indexes_present") if r["status"] == "fail"]
    assert failed == ["devdiag.diag_run_archive (tenant, target_hash)"]


def test_indexes_present_fails_without_the_episode_start_index(db):
    """The episodes' (tenant, problem_code, started_at) index, which 330's oldest-start probe uses, is required."""
    assert set(statuses(db, "indexes_present")) == {"ok"}
    db.execute("DROP INDEX devdiag_rollup.rollup_ttr_episode_problem_started_idx")
    failed = [r["subject"] for r in check(db, "indexes_present") if r["status"] == "fail"]
    assert failed == ["devdiag_rollup.rollup_ttr_episode (tenant, problem_code, started_at)"]


def test_indexes_present_reports_an_invalid_index(pg, fresh_db):
    """An index left invalid (as by a failed CREATE INDEX CONCURRENTLY) is reported by name."""
    with psycopg.connect(pg.superuser_dsn(fresh_db)) as conn:
        conn.execute("CREATE INDEX ops_probe_idx ON devdiag.diag_run (env_fp)")
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'devdiag.ops_probe_idx'::regclass")
        rows = [r for r in check(conn, "indexes_present") if r["check_name"] == "index_valid"]
        assert [(r["subject"], r["status"]) for r in rows] == [("devdiag.ops_probe_idx", "fail")]
        conn.rollback()


def test_table_sizes_lists_every_warehouse_table_with_its_bytes(db):
    """One ok row per table of the warehouse schemas, value in bytes."""
    rows = check(db, "table_sizes")
    subjects = {r["subject"] for r in rows}
    assert {"devdiag.diag_run", "devdiag.diag_run_archive", "devdiag.fix_outcome", "devdiag.settings"} <= subjects
    assert all(r["value"] >= 0 for r in rows)
    assert {r["status"] for r in rows} == {"ok"}


def test_table_sizes_says_not_analysed_instead_of_zero_rows(db):
    """A table the planner has no statistics for is 'not analysed yet', never 'about 0 rows'; after ANALYZE, its count."""
    never = db.execute(
        """SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'devdiag' AND c.relkind = 'r' AND c.reltuples < 0 AND NOT c.relispartition
           ORDER BY 1 LIMIT 1""").fetchone()
    assert never, "every table was analysed: the case cannot be checked"
    rows = {r["subject"]: r for r in check(db, "table_sizes")}
    assert "not analysed yet" in rows[never[0]]["detail"] and "about 0 rows" not in rows[never[0]]["detail"]
    n = db.execute("SELECT count(*) FROM devdiag.settings").fetchone()[0]
    assert n > 0
    db.execute("ANALYZE devdiag.settings")
    rows = {r["subject"]: r for r in check(db, "table_sizes")}
    assert f"about {n} rows" in rows["devdiag.settings"]["detail"]
