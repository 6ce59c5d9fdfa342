"""The project-local PostgreSQL as a new user meets it: make demo, make psql, make dsn.

Each test points DEVDIAG_STATE_DIR at its own folder, so it never touches the
checkout's own cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import psycopg
import pytest

from tests.commands import command


def env_for(tmp_path, **extra) -> dict:
    env = {**os.environ, "DEVDIAG_STATE_DIR": str(tmp_path / "state"),
           "DEVDIAG_CONFIG": str(tmp_path / "absent.yaml")}
    env.pop("DEVDIAG_DSN", None)
    return {**env, **extra}


def process_alive(pid: int, within: float) -> bool:
    """Whether the process still exists after ``within`` seconds (a postmaster exits just after its pid file)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.1)


def destroy(env) -> None:
    subprocess.run([*command("localdb"), "destroy"], env=env, capture_output=True, timeout=120)


def test_read_only_commands_never_create_a_cluster(tmp_path):
    """With nothing configured and no local cluster, dsn and psql refuse in one line and create nothing."""
    env = env_for(tmp_path)
    for argv in ([*command("localdb"), "dsn"], [*command("localdb"), "psql", "-c", "select 1"],
                 [*command("checks"), "health"], [*command("report")]):
        res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 2 and "make migrate" in res.stderr, (argv, res.stderr)
    assert not (tmp_path / "state" / "local.json").exists()


@pytest.mark.slow
def test_demo_serves_tcp_clients_and_says_what_it_ran(tmp_path):
    """make demo: a password login over localhost TCP reads the sample; it names the tenant the 3xx files use,
    says it ignores a configured warehouse, and make psql takes arguments."""
    env = env_for(tmp_path, DEVDIAG_DSN="postgresql://prod.invalid/devdiag")
    try:
        res = subprocess.run([*command("demo"), "--runs", "2000", "--tenants", "2", "--days", "10"],
                             env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout + res.stderr
        out = res.stdout
        assert "DEVDIAG_DSN names a warehouse; the demo never touches it" in out
        assert "-v tenant=" in out and "every file narrows to -v tenant" in out
        # a configured warehouse is not the demo's: the line to open it names the demo's own cluster
        uri_line = [ln for ln in out.splitlines() if ln.strip().startswith("open it:")]
        assert uri_line and 'psql "postgresql://devdiag@/devdiag?host=/' in uri_line[0], out
        port = json.loads((tmp_path / "state" / "local.json").read_text())["port"]
        assert f"host 127.0.0.1, port {port}, database devdiag, user devdiag_demo, password devdiag-demo" in out
        with psycopg.connect(host="127.0.0.1", port=port, dbname="devdiag", user="devdiag_demo",
                             password="devdiag-demo") as conn:
            assert conn.execute("SELECT count(*) FROM devdiag.v_run_all").fetchone()[0] == 2000
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host="127.0.0.1", port=port, dbname="devdiag", user="postgres", connect_timeout=5)
        local = env_for(tmp_path)
        res = subprocess.run([*command("localdb"), "psql", "-X", "-At", "-c", "select 6 * 7"], env=local,
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and res.stdout.strip() == "42", res.stderr
        uri = subprocess.run([*command("localdb"), "dsn"], env=local, capture_output=True, text=True,
                             timeout=60).stdout.strip()
        assert uri.startswith("postgresql://devdiag@/devdiag?host=/")
        assert f"port={port}" in uri
    finally:
        destroy(env_for(tmp_path))


@pytest.mark.slow
def test_a_fresh_checkout_at_the_same_path_starts_a_fresh_cluster(tmp_path):
    """Deleting the checkout (its .devdiag/) deletes its warehouse; as root, where the data lives under
    /tmp, the next command at that path removes the leftover instead of adopting what it holds."""
    import shutil

    env = env_for(tmp_path)
    try:
        res = subprocess.run([*command("localdb"), "up"], env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        datadir = json.loads((tmp_path / "state" / "local.json").read_text())["datadir"]
        old_pid = int(open(os.path.join(datadir, "postmaster.pid")).readline())
        uri = subprocess.run([*command("localdb"), "dsn"], env=env, capture_output=True, text=True,
                             timeout=60).stdout.strip()
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("CREATE TABLE left_by_the_old_checkout (x int)")
        if os.geteuid() != 0:
            # without root the data is inside .devdiag/: stop the server before deleting its folder
            subprocess.run([*command("localdb"), "down"], env=env, capture_output=True, timeout=120, check=True)
        shutil.rmtree(tmp_path / "state")

        res = subprocess.run([*command("localdb"), "up"], env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        if os.geteuid() == 0:
            assert "deleted the local PostgreSQL an earlier checkout at this path left" in res.stderr
            assert not process_alive(old_pid, within=10), "the leftover server still runs"
        uri = subprocess.run([*command("localdb"), "dsn"], env=env, capture_output=True, text=True,
                             timeout=60).stdout.strip()
        with psycopg.connect(uri) as conn:
            assert conn.execute("SELECT to_regclass('left_by_the_old_checkout')").fetchone()[0] is None
    finally:
        destroy(env)
