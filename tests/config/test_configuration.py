"""One configuration: every command finds the warehouse the same way, parses any
DSN form libpq accepts, and never prints a password."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from devdiag_warehouse.config import (
    DevdiagError,
    parse_dsn,
    psql_uri,
    redact,
    warehouse,
    yoyo_url,
)
from tests.commands import command
from tests.sync.sync_support import Store, run_row

SECRET = "s3cr@t-pw"
# Every form of the same failing DSN (nothing listens on port 1), each carrying SECRET.
FAILING_FORMS = {
    "uri userinfo, encoded": "postgresql://devdiag:s3cr%40t-pw@127.0.0.1:1/devdiag",
    "uri userinfo, raw @": f"postgresql://devdiag:{SECRET}@127.0.0.1:1/devdiag",
    "uri query password": f"postgresql://devdiag@127.0.0.1:1/devdiag?password={SECRET}",
    "sqlalchemy spelling": f"postgresql+psycopg://devdiag:{SECRET}@127.0.0.1:1/devdiag",
    "key=value": f"host=127.0.0.1 port=1 dbname=devdiag user=devdiag password={SECRET}",
}
MALFORMED = ["not-a-dsn", f"mysql://u:{SECRET}@h/db", f"postgresql+asyncpg://u:{SECRET}@h/db"]


@pytest.mark.parametrize("form", sorted(FAILING_FORMS))
def test_every_dsn_form_parses_to_the_same_parameters(form):
    """Each accepted spelling yields the same host, port, database, user and password."""
    params = parse_dsn(FAILING_FORMS[form])
    assert {k: params.get(k) for k in ("host", "port", "dbname", "user", "password")} == {
        "host": "127.0.0.1", "port": "1", "dbname": "devdiag", "user": "devdiag", "password": SECRET}


@pytest.mark.parametrize("form", sorted(FAILING_FORMS))
def test_redacted_dsn_never_holds_the_password(form):
    """The printable form of a DSN masks the password whatever form it came in."""
    shown = redact(FAILING_FORMS[form])
    assert SECRET not in shown and "s3cr" not in shown and "***" in shown


@pytest.mark.parametrize("bad", MALFORMED)
def test_a_string_that_is_not_a_postgresql_dsn_is_one_line_without_the_secret(bad):
    """A malformed DSN is refused with one line that does not echo it."""
    with pytest.raises(DevdiagError) as err:
        parse_dsn(bad, "DEVDIAG_DSN")
    msg = str(err.value)
    assert "DEVDIAG_DSN" in msg and SECRET not in msg and "\n" not in msg


def test_unix_socket_dsn_round_trips_through_the_psql_and_yoyo_forms():
    """A socket DSN keeps its directory and port in the URI psql gets and the URL yoyo gets."""
    dsn = "host='/tmp/sock dir' port=5433 dbname=devdiag user=devdiag"
    for form in (psql_uri(dsn), yoyo_url(dsn)):
        assert parse_dsn(form)["host"] == "/tmp/sock dir" and parse_dsn(form)["port"] == "5433"
    assert psql_uri(dsn).startswith("postgresql://devdiag@/devdiag?")


def test_make_dsn_turns_the_sqlalchemy_spelling_into_a_uri_psql_accepts(pg, session_db, tmp_path):
    """psql refuses postgresql+psycopg://; make dsn prints the same warehouse as postgresql://, and psql connects."""
    from devdiag_warehouse.localdb import psql_binary

    plain = psql_uri(pg.dsn(session_db))
    configured = plain.replace("postgresql://", "postgresql+psycopg://", 1)
    env = {**os.environ, "DEVDIAG_DSN": configured, "DEVDIAG_STATE_DIR": str(tmp_path / "state")}
    res = subprocess.run([*command("localdb"), "dsn"], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    printed = res.stdout.strip()
    assert printed.startswith("postgresql://") and "+psycopg" not in printed
    psql = psql_binary()
    refused = subprocess.run([psql, "-X", "-At", "-c", "select 1", configured], capture_output=True, text=True)
    assert refused.returncode != 0
    ok = subprocess.run([psql, "-X", "-At", "-c", "select current_database()", printed],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip() == session_db, ok.stderr


def test_resolution_order_is_flag_then_environment_then_file(tmp_path, monkeypatch, capsys):
    """--dsn beats DEVDIAG_DSN, which beats warehouse.dsn; PG_DSN only as a named alias."""
    cfg = tmp_path / "devdiag.yaml"
    cfg.write_text("warehouse:\n  dsn: postgresql://file@h/f\nlearn:\n  store: sqlite:///x.db\n")
    monkeypatch.setenv("DEVDIAG_CONFIG", str(cfg))
    monkeypatch.delenv("DEVDIAG_DSN", raising=False)
    monkeypatch.setenv("PG_DSN", "postgresql://alias@h/a")
    assert parse_dsn(warehouse().dsn)["user"] == "file"
    assert parse_dsn(warehouse(aliases=("PG_DSN",)).dsn)["user"] == "alias"
    monkeypatch.setenv("DEVDIAG_DSN", "postgresql://env@h/e")
    assert parse_dsn(warehouse(aliases=("PG_DSN",)).dsn)["user"] == "env"
    found = warehouse("postgresql://flag@h/x")
    assert parse_dsn(found.dsn)["user"] == "flag" and found.origin == "--dsn"
    assert "warehouse:" in capsys.readouterr().err


def test_learn_store_naming_a_postgresql_url_is_refused(tmp_path, monkeypatch):
    """learn.store is the SQLite source; a warehouse URL there is an error naming warehouse.dsn."""
    cfg = tmp_path / "devdiag.yaml"
    cfg.write_text("learn:\n  store: postgresql://prod/devdiag\n")
    monkeypatch.setenv("DEVDIAG_CONFIG", str(cfg))
    monkeypatch.delenv("DEVDIAG_DSN", raising=False)
    with pytest.raises(DevdiagError, match="warehouse.dsn"):
        warehouse()


def _entry_points(tmp_path: Path) -> dict[str, list[str]]:
    store = Store(tmp_path / "devdiag.db")
    store.add_runs([run_row(1)])
    return {
        "migrate": [*command("migrate"), "apply"],
        "status": [*command("migrate"), "status"],
        "retention": command("retention"),
        "health": [*command("checks"), "health"],
        "backup": [*command("backup"), "--dir", str(tmp_path / "b")],
        "restore": [*command("restore"), str(tmp_path / "no-such-set")],
        "report": [*command("report"), "--out", str(tmp_path / "r.html")],
        "sync": [*command("sync"), "--sqlite", str(store.path)],
    }


@pytest.mark.parametrize("form", sorted(FAILING_FORMS))
def test_no_entry_point_prints_the_password_of_a_failing_dsn(tmp_path, form):
    """migrate, status, retention, health, backup, restore, report and sync fail in one line, secret masked."""
    env = {**os.environ, "DEVDIAG_DSN": FAILING_FORMS[form], "DEVDIAG_CONFIG": str(tmp_path / "none.yaml")}
    env.pop("PG_DSN", None)
    for name, argv in _entry_points(tmp_path).items():
        res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        out = res.stdout + res.stderr
        assert res.returncode == 2, (name, out)
        assert SECRET not in out and "s3cr" not in out, (name, out)
        assert "Traceback" not in out, (name, out)


@pytest.mark.parametrize("bad", MALFORMED)
def test_a_malformed_dsn_gives_every_entry_point_one_line(tmp_path, bad):
    """A DSN that cannot be parsed is one error line, not a traceback, in every command."""
    env = {**os.environ, "DEVDIAG_DSN": bad, "DEVDIAG_CONFIG": str(tmp_path / "none.yaml")}
    for name, argv in _entry_points(tmp_path).items():
        res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert res.returncode == 2, (name, res.stdout + res.stderr)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, res.stderr)
        assert SECRET not in res.stdout + res.stderr, name


def test_key_value_dsn_migrates_and_reports_status(pg, fresh_db, tmp_path):
    """make migrate and make status work on a libpq key=value DSN (socket directory and port)."""
    dsn = f"host={pg.host} port={pg.port} dbname={fresh_db} user=devdiag"
    env = {**os.environ, "DEVDIAG_CONFIG": str(tmp_path / "none.yaml")}
    env.pop("DEVDIAG_DSN", None)
    for argv in ([*command("migrate"), "apply", "--dsn", dsn], [*command("migrate"), "status", "--dsn", dsn]):
        res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"dbname={fresh_db}" in res.stderr.splitlines()[0]

