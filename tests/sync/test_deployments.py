"""deployments/sync/ runs the real command line: the script each file names
exists, accepts the options given, and takes its settings from where the file
puts them (secrets referenced, never inlined)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from devdiag_warehouse import sync

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deployments" / "sync"


def check_command(argv: list[str]) -> None:
    """argv runs the package's devdiag-sync command with options it accepts."""
    i = next(k for k, a in enumerate(argv) if a.endswith("devdiag-sync"))
    assert argv[i] in ("devdiag-sync", ".venv/bin/devdiag-sync"), argv[i]
    sync.parse_args(argv[i + 1:])  # exits (SystemExit) on an unknown option


def test_cron_line_runs_the_sync_quietly_every_few_minutes():
    """The cron.d entry has five schedule fields, a user, and the real quiet command; no DSN inline."""
    lines = [ln for ln in (DEPLOY / "devdiag-sync.cron").read_text().splitlines()
             if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]]
    assert len(lines) == 1
    fields = lines[0].split(None, 6)
    assert fields[0] == "*/5" and fields[5] == "devdiag"
    argv = shlex.split(fields[6].split("&&")[-1].split(">>")[0])
    check_command(argv)
    assert "--quiet" in argv and "postgresql" not in lines[0]


def test_env_example_names_every_setting_the_cron_line_needs():
    """sync.env.example sets SQLITE_PATH, PG_DSN (no password) and SYNC_SOURCE."""
    env = dict(ln.split("=", 1) for ln in (DEPLOY / "sync.env.example").read_text().splitlines()
               if ln and not ln.startswith("#"))
    assert {"SQLITE_PATH", "PG_DSN", "SYNC_SOURCE", "PGPASSFILE"} <= set(env)
    assert not re.search(r"://[^@/]+:[^@]+@", env["PG_DSN"]), "password inlined in the DSN"


def test_github_workflow_keeps_its_schedule_with_secrets_referenced():
    """The workflow keeps the workflow's schedule and secrets, installs this project, runs the real command."""
    wf = yaml.safe_load((DEPLOY / "sync-analytics.yml").read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "0 */6 * * *"}] and "workflow_dispatch" in triggers
    steps = wf["jobs"]["sync"]["steps"]
    run = [s for s in steps if "devdiag-sync" in s.get("run", "")]
    assert len(run) == 1
    check_command(shlex.split(run[0]["run"]))
    assert run[0]["env"]["PG_DSN"] == "${{ secrets.PG_DSN }}"
    assert run[0]["env"]["SQLITE_PATH"] == "${{ secrets.SQLITE_PATH }}"
    assert not any("psycopg2" in s.get("run", "") for s in steps)


def test_kubernetes_cronjob_reads_the_dsn_from_a_secret_and_never_overlaps():
    """The CronJob runs the real command, takes PG_DSN from a Secret and forbids concurrent runs."""
    job = yaml.safe_load((DEPLOY / "kubernetes-cronjob.yaml").read_text())
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    check_command(container["command"])
    env = {e["name"]: e for e in container["env"]}
    assert env["PG_DSN"]["valueFrom"]["secretKeyRef"] == {"name": "devdiag-sync", "key": "pg_dsn"}
    assert "value" not in env["PG_DSN"]
    mount = container["volumeMounts"][0]["mountPath"]
    assert env["SQLITE_PATH"]["value"].startswith(mount + "/")
