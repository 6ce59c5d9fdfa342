"""make alerts / make health: the runner's output and exit status are what cron and CI act on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg

from tests.commands import command

ROOT = Path(__file__).resolve().parents[2]


def checks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command("checks"), *args],
                          capture_output=True, text=True, timeout=120)


def test_alerts_exit_1_and_name_what_fires_then_0_once_quiet(pg, fresh_db):
    """An empty warehouse fires no_recent_runs (exit 1); after a fresh run nothing fires (exit 0)."""
    res = checks("alerts", "--dsn", pg.dsn(fresh_db))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "FIRING  200_no_recent_runs" in res.stdout and "ERROR" not in res.stdout
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                        VALUES (now(), 'acme', repeat('c', 64), '[]', 'app')""")
        # the runner reads the views in its own session: fold the run before the commit, as the sync does
        conn.execute("CALL devdiag.refresh_rollups()")
    res = checks("alerts", "--dsn", pg.dsn(fresh_db), "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout == ""


def test_health_exit_status_follows_the_worst_row(pg, fresh_db):
    """No runs at all is a failure (exit 2); a run now makes every check ok (exit 0)."""
    res = checks("health", "--dsn", pg.dsn(fresh_db))
    assert res.returncode == 2
    assert any(line.startswith("fail    freshness") for line in res.stdout.splitlines())
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                        VALUES (now(), 'acme', repeat('c', 64), '[]', 'app')""")
    res = checks("health", "--dsn", pg.dsn(fresh_db))
    assert res.returncode == 0, res.stdout
    assert "ok      view_present" in res.stdout


def test_a_broken_query_is_one_error_line_and_the_others_still_run(pg, fresh_db, tmp_path, monkeypatch):
    """A file that errors is reported on one line, counts as exit 2, and does not stop the rest."""
    from devdiag_warehouse import checks as checks_mod

    (tmp_path / "100_broken.sql").write_text("-- Fires when: never\nSELECT * FROM devdiag.no_such_table;\n")
    (tmp_path / "200_fine.sql").write_text("-- Fires when: never\nSELECT 1 WHERE false;\n")
    monkeypatch.setitem(checks_mod.KINDS, "alerts", tmp_path)
    monkeypatch.setattr(checks_mod, "ROOT", tmp_path.parent)
    import io

    out = io.StringIO()
    assert checks_mod.run("alerts", pg.dsn(fresh_db), out=out) == 2
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ERROR") and "no_such_table" in lines[0]
    assert lines[1] == "ok      200_fine"
