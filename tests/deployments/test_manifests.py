"""Deployment files: the compose file and Kubernetes manifests validate and say what the README promises.

No Docker engine or Kubernetes cluster runs here: the compose file is checked
with docker-compose's own `config` (Debian's docker-compose), the manifests
against the Kubernetes JSON schemas (kubernetes-validate), and both for the
properties operators rely on (healthcheck, migrate after healthy, pg_cron
preloaded, secrets referenced).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deployments"
COMPOSE = DEPLOY / "postgres.devdiag.yml"
K8S = sorted(p for p in (DEPLOY / "kubernetes").glob("*.yaml") if p.name != "kustomization.yaml")
DOCKER_COMPOSE = shutil.which("docker-compose")
KUBE_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
ENV = dict(os.environ, POSTGRES_PASSWORD="pw-super", DEVDIAG_DB_PASS="pw-owner")


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z0-9-]+):", (ROOT / "Makefile").read_text(), re.M))


def commands(doc) -> list[list[str]]:
    """Every container/service command list in a parsed compose file or manifest."""
    found = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "command" and isinstance(v, list):
                found.append(v)
            else:
                found += commands(v)
    elif isinstance(doc, list):
        for v in doc:
            found += commands(v)
    return found


@pytest.mark.skipif(DOCKER_COMPOSE is None, reason="docker-compose is not installed (apt: docker-compose)")
def test_compose_file_is_accepted_by_docker_compose_config():
    """docker-compose config accepts the file with every profile, and refuses it without the passwords."""
    res = subprocess.run([DOCKER_COMPOSE, "-f", str(COMPOSE), "--profile", "sync", "--profile", "backup", "config"],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 0, res.stderr
    resolved = yaml.safe_load(res.stdout)
    assert set(resolved["services"]) == {"postgres", "migrate", "sync", "backup"}
    assert resolved["services"]["migrate"]["environment"]["DEVDIAG_DSN"].startswith(
        "postgresql+psycopg://devdiag:pw-owner@postgres:5432/")
    bare = {k: v for k, v in ENV.items() if k not in ("POSTGRES_PASSWORD", "DEVDIAG_DB_PASS")}
    res = subprocess.run([DOCKER_COMPOSE, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                         env=bare)
    assert res.returncode != 0 and "POSTGRES_PASSWORD" in res.stderr


def test_compose_database_preloads_pg_cron_and_migrate_waits_for_health():
    """The database image adds pg_cron and preloads it; migrate runs make migrate once the database is healthy."""
    spec = yaml.safe_load(COMPOSE.read_text())
    db, migrate = spec["services"]["postgres"], spec["services"]["migrate"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["command"] == ["make", "migrate"] and migrate["restart"] == "no"
    dockerfile = (DEPLOY / db["build"]["context"] / "Dockerfile").read_text()
    assert re.search(r"^FROM postgres:16\b", dockerfile, re.M)
    assert "postgresql-${PG_MAJOR}-cron" in dockerfile and "shared_preload_libraries=pg_cron" in dockerfile
    for name in ("sync", "backup"):
        assert spec["services"][name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    for service in spec["services"].values():
        for key, value in service.get("environment", {}).items():
            if "PASS" in key or "DSN" in key:
                assert "${" in str(value), f"{key} must come from the environment"


def test_initdb_script_is_valid_bash_and_keeps_the_owner_non_superuser():
    """The first-start script parses, creates the owner without SUPERUSER and creates pg_cron."""
    script = DEPLOY / "postgres" / "initdb" / "10-devdiag-owner.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text()
    assert "CREATE ROLE devdiag LOGIN CREATEROLE PASSWORD :'pass'" in text and "SUPERUSER" not in text
    assert "CREATE EXTENSION IF NOT EXISTS pg_cron" in text


@pytest.mark.parametrize("path", K8S, ids=[p.name for p in K8S])
def test_kubernetes_manifest_validates_against_the_schema(path):
    """Each manifest passes strict schema validation (unknown fields rejected)."""
    res = subprocess.run([str(KUBE_VALIDATE), "--strict", "-k", "1.30.0", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_schema_validation_rejects_a_misspelt_field(tmp_path):
    """The validator is not a rubber stamp: a typo in a CronJob fails it."""
    bad = tmp_path / "bad.yaml"
    bad.write_text((DEPLOY / "kubernetes" / "backup-cronjob.yaml").read_text().replace("schedule:", "schedul:"))
    res = subprocess.run([str(KUBE_VALIDATE), "--strict", "-k", "1.30.0", str(bad)], capture_output=True, text=True)
    assert res.returncode != 0


def test_kubernetes_cronjobs_reference_the_dsn_secret_and_never_inline_it():
    """Every DSN comes from the devdiag-warehouse Secret; no password or DSN literal is in a manifest."""
    for path in K8S:
        text = path.read_text()
        for doc in yaml.safe_load_all(text):
            if doc.get("kind") != "CronJob":
                continue
            for c in doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]:
                env = {e["name"]: e for e in c.get("env", [])}
                assert env["DEVDIAG_DSN"]["valueFrom"]["secretKeyRef"] == {"name": "devdiag-warehouse", "key": "dsn"}
        body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        assert "postgresql://" not in body and "postgresql+psycopg://" not in body and "password" not in body.lower()
    kinds = {doc["metadata"]["name"]: doc for p in K8S for doc in yaml.safe_load_all(p.read_text())}
    assert {"devdiag-backup", "devdiag-retention", "devdiag-backups"} <= set(kinds)


def test_every_make_target_the_deployments_run_exists():
    """Commands of the compose services and CronJobs call make targets the Makefile defines."""
    used = set()
    for doc in [yaml.safe_load(COMPOSE.read_text())] + [d for p in K8S for d in yaml.safe_load_all(p.read_text())]:
        for cmd in commands(doc):
            text = " ".join(cmd)
            used |= set(re.findall(r"\bmake ([a-z0-9-]+)", text))
    assert {"migrate", "backup", "retention"} <= used
    assert used <= make_targets(), used - make_targets()
