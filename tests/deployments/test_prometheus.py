"""The exporter's custom queries run against a real warehouse, and the alert rules pass promtool."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deployments" / "prometheus"
EXPORTER = shutil.which("prometheus-postgres-exporter") or shutil.which("postgres_exporter")
PROMTOOL = shutil.which("promtool")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Metrics:
    """Samples of the exposition format, looked up by name and (some of) their labels."""

    def __init__(self, text: str):
        self.samples = []
        for line in text.splitlines():
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$", line)
            if m and not line.startswith("#"):
                labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
                self.samples.append((m.group(1), labels, float(m.group(3))))

    def __call__(self, name: str, **labels) -> float:
        found = [v for n, lab, v in self.samples if n == name and labels.items() <= lab.items()]
        assert len(found) == 1, f"{name} {labels}: {len(found)} samples"
        return found[0]


@pytest.fixture
def monitored_db(pg, fresh_db):
    """A warehouse with runs today, archived runs, an open problem and two sync sources; a monitoring login."""
    with psycopg.connect(pg.superuser_dsn(fresh_db)) as conn:
        conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                        SELECT now() - make_interval(mins => i), 'acme', repeat('a', 64),
                               CASE WHEN i % 2 = 1 THEN '["CSP"]' ELSE '[]' END::jsonb, 'full'
                        FROM generate_series(1, 6) AS i""")
        conn.execute("""INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, problems, evidence, preset)
                        SELECT 1000 + i, now() - interval '200 days', 'acme', repeat('b', 64), '[]', '{}', 'app'
                        FROM generate_series(1, 50) AS i""")
        conn.execute("""INSERT INTO devdiag.fix_outcome (tenant, problem_code, fix_code, confidence, support, env_fp)
                        VALUES ('acme', 'CSP', 'csp.fix', 0.8, 3, 'e1'), ('acme', 'CSP', 'csp.fix', 0.4, 1, 'e2')""")
        # the exporter reads the views in its own session: fold the rows before the commit, as the sync does
        conn.execute("CALL devdiag.refresh_rollups()")
        conn.execute("""INSERT INTO devdiag.sync_source (name, created_at, last_sync_at) VALUES
                        ('laptop', now() - interval '1 day', now() - interval '3 hours'),
                        ('ci', now() - interval '1 day', now() - interval '5 minutes')""")
        conn.execute("ANALYZE devdiag.diag_run_archive")
        login = f"ops_prom_{uuid.uuid4().hex[:8]}"
        conn.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE devdiag_monitor')
    yield fresh_db, login
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{login}"')


@pytest.mark.skipif(EXPORTER is None, reason="prometheus-postgres-exporter is not installed (apt)")
def test_exporter_serves_the_warehouse_metrics_as_the_monitoring_role(pg, monitored_db):
    """The real exporter, logged in as a devdiag_monitor member, exposes every query's metrics without errors."""
    db, login = monitored_db
    port = free_port()
    env = dict(os.environ, DATA_SOURCE_NAME=f"host={pg.host} port={pg.port} user={login} dbname={db} sslmode=disable")
    proc = subprocess.Popen(
        [EXPORTER, f"--extend.query-path={PROM / 'queries.yaml'}", f"--web.listen-address=127.0.0.1:{port}",
         "--disable-default-metrics", "--disable-settings-metrics", "--no-collector.bgwriter",
         "--log.level=warn"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert body is not None, "exporter did not answer"
    finally:
        proc.terminate()
        log = proc.communicate(timeout=10)[0]
    m = Metrics(body)
    assert m("pg_up") == 1, log
    assert m("pg_exporter_last_scrape_error") == 0, log
    assert "error" not in log.lower(), log
    assert 0 < m("devdiag_freshness_seconds_since_last_run") < 600
    assert m("devdiag_runs_today") >= 1 and m("devdiag_runs_problem_runs_today") <= m("devdiag_runs_today")
    assert m("devdiag_ops_open_episodes") == 1 and m("devdiag_ops_open_problem_codes") == 1
    assert m("devdiag_ops_fix_confidence_avg") == pytest.approx((0.8 * 3 + 0.4 * 1) / 4)
    assert m("devdiag_ops_retention_days") == 180
    assert m("devdiag_archive_bytes") > 0 and m("devdiag_archive_approx_rows") == 50
    assert m("devdiag_sync_lag_seconds", source="laptop") == pytest.approx(3 * 3600, abs=120)
    assert m("devdiag_sync_lag_seconds", source="ci") < 600


def test_monitoring_role_reads_the_ops_views_but_no_tenant_rows(pg, monitored_db):
    """A devdiag_monitor member reads v_monitor_ops and v_monitor_sync, and is refused the runs themselves."""
    db, login = monitored_db
    with psycopg.connect(pg.dsn(db, login)) as conn:
        assert conn.execute("SELECT open_episodes FROM devdiag.v_monitor_ops").fetchone()[0] == 1
        assert {r[0] for r in conn.execute("SELECT source FROM devdiag.v_monitor_sync")} == {"laptop", "ci"}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM devdiag.diag_run")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt: prometheus)")
def test_alert_rules_and_config_pass_promtool_and_its_unit_tests():
    """promtool accepts the rules and the example config, and every rule unit test passes."""
    for args in (["check", "rules", "devdiag.rules.yml"], ["check", "config", "prometheus.yml"],
                 ["test", "rules", "devdiag.rules.test.yml"]):
        res = subprocess.run([PROMTOOL, *args], cwd=PROM, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr


def test_every_alert_rule_metric_is_exported_by_the_queries_file():
    """Each devdiag_* metric a rule uses is produced by queries.yaml (a renamed column breaks no rule silently)."""
    import yaml

    queries = yaml.safe_load((PROM / "queries.yaml").read_text())
    exported = {f"{key}_{col}" for key, q in queries.items() for m in q["metrics"] for col, spec in m.items()
                if spec["usage"] != "LABEL"}
    used = set(re.findall(r"\bdevdiag_[a-z0-9_]+", (PROM / "devdiag.rules.yml").read_text()))
    used -= {"devdiag_warehouse"}
    assert used and used <= exported, used - exported
