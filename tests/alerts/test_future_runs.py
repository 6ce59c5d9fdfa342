"""A run dated far in the future is refused (settings.max_future_minutes of clock
skew is allowed), so it can never stay the newest run and silence freshness."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg import errors

HEALTH = Path(__file__).resolve().parents[2] / "sql" / "health" / "100_freshness.sql"


def insert_at(db, ts_sql: str) -> None:
    db.execute(f"""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                   VALUES ({ts_sql}, 'acme', repeat('ab', 32), '[]', 'app')""")


def refused(db, ts_sql: str) -> errors.CheckViolation:
    with pytest.raises(errors.CheckViolation) as exc, db.transaction():
        insert_at(db, ts_sql)
    return exc.value


def test_a_run_far_in_the_future_is_refused_naming_the_rule(db):
    """A run a day ahead of the warehouse's clock is refused by diag_run_ts_not_in_future."""
    exc = refused(db, "now() + interval '1 day'")
    assert exc.diag.constraint_name == "diag_run_ts_not_in_future"
    assert exc.diag.table_name == "diag_run" and "minutes after the warehouse's clock" in str(exc)


def test_clock_skew_within_the_setting_is_allowed(db, setting):
    """Four minutes ahead lands under the default five; with max_future_minutes = 0 one minute is refused."""
    insert_at(db, "now() + interval '4 minutes'")
    refused(db, "now() + interval '6 minutes'")
    setting(db, "max_future_minutes", 0)
    refused(db, "clock_timestamp() + interval '1 minute'")
    setting(db, "max_future_minutes", 60)
    insert_at(db, "now() + interval '59 minutes'")


def test_a_far_future_run_cannot_silence_the_no_recent_runs_alert_or_freshness(db, alert, add_runs):
    """With runs silent for three hours, a run dated next year is refused and the alert and health still fail."""
    add_runs(db, ago="3 hours")
    refused(db, "now() + interval '1 year'")
    assert float(alert(db, "no_recent_runs")[0]["minutes_silent"]) == pytest.approx(180, abs=0.5)
    statuses = [r[2] for r in db.execute(HEALTH.read_text()).fetchall()]
    assert statuses and "ok" not in statuses


def test_migrate_gives_a_trigger_without_its_when_condition_the_condition(pg, fresh_db):
    """An earlier release's trigger calls the function for every run (no WHEN); make migrate adds the WHEN."""
    import io

    import psycopg

    from devdiag_warehouse.migrate import META_SCHEMA, Migrator

    def definition():
        with psycopg.connect(pg.dsn(fresh_db)) as conn:
            return conn.execute(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = 'devdiag.diag_run'::regclass AND tgname = 'diag_run_ts_not_in_future'").fetchone()[0]

    assert "WHEN ((new.ts > now()))" in definition()
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("DROP TRIGGER diag_run_ts_not_in_future ON devdiag.diag_run")
        conn.execute("CREATE TRIGGER diag_run_ts_not_in_future BEFORE INSERT OR UPDATE OF ts ON devdiag.diag_run "
                     "FOR EACH ROW EXECUTE FUNCTION devdiag.refuse_future_run()")
        conn.execute(f"UPDATE {META_SCHEMA}.repeatable_state SET sha256 = 'sql/ of an earlier release'")
    assert "WHEN" not in definition()
    with Migrator(pg.dsn(fresh_db), out=io.StringIO()) as m:
        m.apply()
    assert "WHEN ((new.ts > now()))" in definition()
