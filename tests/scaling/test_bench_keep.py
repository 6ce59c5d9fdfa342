"""make bench end to end on a tiny store: it writes its results, and --keep keeps the data, not a running server."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile

from devdiag_warehouse import bench
from devdiag_warehouse.localdb import LocalCluster, find_bindir


def test_a_kept_bench_leaves_its_data_and_no_server_running(tmp_path, capsys, monkeypatch):
    store, out, scratch = tmp_path / "store.db", tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    argv = ["--runs", "3000", "--days", "3", "--tenants", "2", "--reps", "1", "--ref-reps", "1",
            "--ref-timeout", "30", "--keep", "--store", str(store), "--out", str(out)]
    base = LocalCluster.base_dir(f"bench-{os.getpid()}")
    try:
        assert bench.main(argv) == 0
        said = capsys.readouterr().err
        assert "kept the server's data in" in said
        datadir = base / "data"
        assert (datadir / "PG_VERSION").exists(), "the server's data is kept"
        assert not (datadir / "postmaster.pid").exists(), "the kept server is stopped"
        lite = sqlite3.connect(store)
        generated = lite.execute("SELECT count(*) FROM diag_run").fetchone()[0]
        lite.close()
        res = json.loads((out / "latest.json").read_text())
        assert res["ingest"]["runs_landed"] == generated > 0
        assert all(q.get("same_rows") in (True, None) for q in res["queries"])
        report = (out / "latest.md").read_text()
        assert "## Ingest" in report
        if shutil.which("pgloader"):
            # the reference load: every run of the store, and its row in the ingest table
            assert res["pgloader"]["runs"] == generated
            assert res["pgloader"]["wall_s"] > 0
            assert "| reference: pgloader" in report
            assert "loaded every run of the same store" in report
        else:
            assert "not installed" in res["pgloader"]["note"]
        assert list(scratch.iterdir()) == [], "the bench's scratch folder (query copies, probes, dumps) is removed"
    finally:
        # (a server left running by a failed run goes too)
        LocalCluster(base / "data", find_bindir(), 0, base).stop()
        shutil.rmtree(base, ignore_errors=True)
