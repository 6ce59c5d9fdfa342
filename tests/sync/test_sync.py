"""The sync's everyday behaviour: first sync, re-sync, appended rows, updated
support, several sources, privacy, configuration and exit statuses."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import psycopg
import pytest
from psycopg import sql

from tests.commands import command, error_lines
from tests.sync.sync_support import T0, digest, query, run_row, warehouse_state


def runs_of(dsn: str) -> list[tuple]:
    return query(dsn, """SELECT source_run_id, tenant, ts, target_hash, env_fp, problems, evidence, preset
                         FROM devdiag.diag_run ORDER BY source_id, source_run_id""")


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def test_first_sync_copies_every_run_and_fix_outcome(store, warehouse, sync):
    """Every run lands once with its values, SQLite id and source; fix outcomes land with SQLite's support."""
    s = store()
    s.add_runs([run_row(i, tenant="acme" if i % 3 else "globex") for i in range(30)])
    s.credit("acme", "CSP_FRAME_ANCESTORS", "csp.add_frame_ancestors", "env-1", 3, 0.75, ts=T0 + 5)
    res = sync(s, warehouse, "--quiet")
    assert res.stdout.count("\n") == 1, res.stdout
    assert "runs 30 read, 30 landed" in res.stdout and "0 new rejects" in res.stdout
    rows = runs_of(warehouse)
    assert [r[0] for r in rows] == list(range(1, 31))
    first = rows[0]
    assert first[1:] == ("globex", utc(T0), digest("https://globex.example.com/0"), "env-1",
                         ["CSP_FRAME_ANCESTORS"], {"framework": "react@18.3", "server": "nginx"}, "embed")
    assert query(warehouse, "SELECT tenant, support, confidence, ts FROM devdiag.fix_outcome") == [
        ("acme", 3, 0.75, utc(T0 + 5))]


def test_resync_without_changes_writes_nothing(store, warehouse, sync):
    """A second sync of an unchanged store reads no run, changes no outcome and leaves the state as it was."""
    s = store()
    s.add_runs([run_row(i) for i in range(10)])
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 2, 0.5)
    sync(s, warehouse)
    before = warehouse_state(warehouse)
    res = sync(s, warehouse, "--quiet")
    assert "runs 0 read, 0 landed" in res.stdout
    assert "0 changed" in res.stdout
    assert warehouse_state(warehouse) == before


def test_appended_runs_land_on_the_next_sync_and_only_they(store, warehouse, sync):
    """Runs DevDiag appends after a sync are the only ones the next sync reads."""
    s = store()
    s.add_runs([run_row(i) for i in range(10)])
    sync(s, warehouse)
    s.add_runs([run_row(i) for i in range(10, 15)])
    res = sync(s, warehouse, "--quiet")
    assert "runs 5 read, 5 landed, 0 already present" in res.stdout
    assert [r[0] for r in runs_of(warehouse)] == list(range(1, 16))
    assert query(warehouse, "SELECT run_watermark, runs_synced FROM devdiag.sync_source") == [(15, 15)]


def test_updated_support_is_taken_not_added_and_ts_moves_to_the_growth(store, warehouse, sync):
    """fix_outcome takes SQLite's current support (3 then 5, never 8) and ts becomes the sync that saw it grow."""
    s = store()
    s.add_runs([run_row(0)])
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 3, 0.6, ts=T0)
    sync(s, warehouse)
    sync(s, warehouse)  # nothing changed: nothing added
    assert query(warehouse, "SELECT support, confidence, ts FROM devdiag.fix_outcome") == [(3, 0.6, utc(T0))]
    before_sync = datetime.now(timezone.utc)
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 2, 0.8)
    res = sync(s, warehouse, "--quiet")
    assert "1 changed" in res.stdout
    (support, confidence, ts), = query(warehouse, "SELECT support, confidence, ts FROM devdiag.fix_outcome")
    assert (support, confidence) == (5, 0.8)
    assert ts >= before_sync.replace(microsecond=0)


def test_confidence_change_without_growth_keeps_the_last_credit_time(store, warehouse, sync):
    """A new confidence alone is taken, but the pair was not credited again, so ts stays."""
    s = store()
    fid = s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 3, 0.6, ts=T0)
    sync(s, warehouse)
    s.conn.execute("UPDATE fix_outcome SET confidence = 0.4 WHERE id = ?", (fid,))
    sync(s, warehouse)
    assert query(warehouse, "SELECT support, confidence, ts FROM devdiag.fix_outcome") == [(3, 0.4, utc(T0))]


def test_two_sources_sync_into_one_warehouse_without_clobbering(store, warehouse, sync):
    """Two stores with overlapping SQLite ids and the same pair keep their runs apart and add their support."""
    a, b = store("a.db"), store("b.db")
    a.add_runs([run_row(i, tenant="acme") for i in range(5)])
    b.add_runs([run_row(i, tenant="acme", env="env-b") for i in range(100, 103)])
    a.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 3, 0.6)
    b.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 4, 0.9)
    sync(a, warehouse, "--source", "laptop")
    sync(b, warehouse, "--source", "ci")
    sync(a, warehouse, "--source", "laptop")
    assert query(warehouse, """SELECT s.name, count(*), min(r.source_run_id), max(r.source_run_id)
                               FROM devdiag.diag_run r JOIN devdiag.sync_source s ON s.id = r.source_id
                               GROUP BY 1 ORDER BY 1""") == [("ci", 3, 1, 3), ("laptop", 5, 1, 5)]
    assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(7,)]
    b.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 1, 0.9)
    sync(b, warehouse, "--source", "ci")
    assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(8,)]
    assert query(warehouse, "SELECT name, run_watermark FROM devdiag.sync_source ORDER BY 1") == [
        ("ci", 3), ("laptop", 5)]
    # The views count each run once.
    assert query(warehouse, "SELECT sum(runs) FROM devdiag.v_problem_counts") == [(8,)]


def test_derived_source_name_is_stable_and_distinct_per_store(store, warehouse, sync, tmp_path):
    """Without a name, a store is known by its first run: a moved file is the same source, another store is not."""
    a, b = store("a.db"), store("b.db")
    a.add_runs([run_row(i) for i in range(3)])
    b.add_runs([run_row(i, tenant="globex") for i in range(3)])
    sync(a, warehouse)
    sync(b, warehouse)
    names = [r[0] for r in query(warehouse, "SELECT name FROM devdiag.sync_source ORDER BY id")]
    assert len(set(names)) == 2 and all(n.startswith("sqlite-") for n in names)
    a.close()
    moved = tmp_path / "moved.db"
    (tmp_path / "a.db").rename(moved)
    from tests.sync.sync_support import run_sync

    res = run_sync(moved, warehouse, "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"sync source '{names[0]}'" in res.stdout and "runs 0 read" in res.stdout


def test_a_different_store_under_a_used_name_is_refused(store, warehouse, sync):
    """Pointing a named source at another store fails with one line instead of skipping its runs."""
    a, b = store("a.db"), store("b.db")
    a.add_runs([run_row(i) for i in range(3)])
    b.add_runs([run_row(i, tenant="globex") for i in range(5)])
    sync(a, warehouse, "--source", "prod")
    res = sync(b, warehouse, "--source", "prod", rc=2)
    assert len(error_lines(res.stderr)) == 1 and "different store" in res.stderr
    assert "Traceback" not in res.stderr


def test_privacy_hashes_raw_targets_and_drops_unlisted_evidence_keys(store, warehouse, sync):
    """A URL target arrives as its SHA-256, a hex digest as is (lowercased), and only kept evidence keys land."""
    s = store()
    upper = "AB" * 32
    s.add_runs([
        run_row(0, target="https://shop.example.com/checkout?token=secret",
                evidence={"csp": "frame-ancestors 'self'", "cookie": "session=abc", "url": "https://x"}),
        run_row(1, target=upper, evidence={"framework": "vue@3.5"}),
    ])
    sync(s, warehouse)
    rows = query(warehouse, "SELECT target_hash, evidence FROM devdiag.diag_run ORDER BY source_run_id")
    assert rows == [
        (digest("https://shop.example.com/checkout?token=secret"), {"csp": "frame-ancestors 'self'"}),
        (upper.lower(), {"framework": "vue@3.5"}),
    ]
    dump = json.dumps(warehouse_state(warehouse), default=str)
    assert "secret" not in dump and "session=abc" not in dump


def test_keep_evidence_keys_come_from_settings_unless_devdiag_yaml_says(store, warehouse, sync, tmp_path):
    """The warehouse's settings table is the default; learn.privacy.keep_evidence_keys overrides it."""
    s = store()
    s.add_runs([run_row(0, evidence={"csp": "a", "server": "nginx", "routes": ["/"]})])
    with psycopg.connect(warehouse) as conn:
        conn.execute("""UPDATE devdiag.settings SET value = '["server"]' WHERE key = 'keep_evidence_keys'""")
    sync(s, warehouse)
    s.add_runs([run_row(1, evidence={"csp": "a", "server": "nginx", "routes": ["/"]})])
    cfg = tmp_path / "devdiag.yaml"
    cfg.write_text("learn:\n  privacy:\n    keep_evidence_keys: [csp, routes]\n")
    sync(s, warehouse, env={"DEVDIAG_CONFIG": str(cfg)})
    assert query(warehouse, "SELECT evidence FROM devdiag.diag_run ORDER BY source_run_id") == [
        ({"server": "nginx"},), ({"csp": "a", "routes": ["/"]},)]


def test_devdiag_yaml_configures_store_warehouse_and_source(store, warehouse, tmp_path):
    """learn.store (sqlite:///path), warehouse.dsn and learn.sync.source are enough, with no env at all."""
    from tests.sync.sync_support import run_sync

    s = store()
    s.add_runs([run_row(0)])
    cfg = tmp_path / "devdiag.yaml"
    cfg.write_text(json.dumps({
        "warehouse": {"dsn": warehouse.replace("postgresql://", "postgresql+psycopg://")},
        "learn": {"store": f"sqlite:///{s.path}", "sync": {"source": "from-yaml"}}}))
    res = run_sync(s.path, warehouse, "--quiet", cwd=tmp_path,
                   env={"SQLITE_PATH": None, "PG_DSN": None, "DEVDIAG_CONFIG": str(cfg)})
    assert res.returncode == 0, res.stderr
    assert "sync source 'from-yaml'" in res.stdout


def test_the_old_warehouse_keys_of_devdiag_yaml_are_refused_by_name(store, warehouse, tmp_path):
    """learn.sync.pg_dsn is no longer read: the sync says to use warehouse.dsn instead of guessing."""
    from tests.sync.sync_support import run_sync

    s = store()
    s.add_runs([run_row(0)])
    cfg = tmp_path / "devdiag.yaml"
    cfg.write_text(json.dumps({"learn": {"store": f"sqlite:///{s.path}", "sync": {"pg_dsn": warehouse}}}))
    res = run_sync(s.path, warehouse, "--quiet", cwd=tmp_path,
                   env={"SQLITE_PATH": None, "PG_DSN": None, "DEVDIAG_CONFIG": str(cfg)})
    assert res.returncode == 2 and "warehouse.dsn" in res.stderr


@pytest.mark.parametrize("scheme", ["postgresql://", "postgresql+psycopg://"])
def test_both_dsn_spellings_work(store, warehouse, sync, scheme):
    """PG_DSN may be a libpq URL or the SQLAlchemy/yoyo spelling DevDiag's config uses."""
    s = store()
    s.add_runs([run_row(0)])
    sync(s, scheme + warehouse.split("://", 1)[1], "--quiet")
    assert len(runs_of(warehouse)) == 1


def test_dry_run_reports_and_writes_nothing(store, warehouse, sync):
    """--dry-run counts what would be copied and rejected; the warehouse stays untouched."""
    s = store()
    s.add_runs([run_row(i) for i in range(4)])
    s.add_raw_run(ts=T0, tenant="acme", target_hash=digest("x"), problems="not json", evidence="{}")
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 1, 0.5)
    before = warehouse_state(warehouse)
    res = sync(s, warehouse, "--dry-run", rc=1)
    assert "would copy 4 runs, reject 1 runs" in res.stdout and "1 would change" in res.stdout
    assert warehouse_state(warehouse) == before


def test_missing_sqlite_file_is_one_line_and_exit_2(warehouse, tmp_path):
    """A store that does not exist: one clear line on stderr, status 2, no traceback."""
    from tests.sync.sync_support import run_sync

    res = run_sync(tmp_path / "nope.db", warehouse, cwd=tmp_path)
    assert res.returncode == 2
    assert error_lines(res.stderr) == [f"error: SQLite store not found: {tmp_path / 'nope.db'}"]


def test_wrong_dsn_is_one_line_and_exit_2(store, pg, sync):
    """An unreachable or unknown database: one line naming the DSN (password hidden), status 2."""
    s = store()
    s.add_runs([run_row(0)])
    bad = pg.dsn("no_such_db").replace("devdiag@", "devdiag:hunter2@")
    res = sync(s, bad, rc=2)
    assert len(error_lines(res.stderr)) == 1
    assert error_lines(res.stderr)[0].startswith("error: cannot connect to the warehouse")
    assert "hunter2" not in res.stderr
    res = sync(s, "postgresql://nobody@127.0.0.1:1/x", rc=2)
    assert len(error_lines(res.stderr)) == 1 and "Traceback" not in res.stderr


def test_unmigrated_warehouse_is_one_line_and_exit_2(store, pg, sync):
    """An empty database: one line telling to run make migrate, status 2."""
    name = "t_unmigrated_sync"
    with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER devdiag").format(sql.Identifier(name)))
    try:
        s = store()
        s.add_runs([run_row(0)])
        res = sync(s, pg.dsn(name), rc=2)
        assert len(error_lines(res.stderr)) == 1
        assert "not migrated" in res.stderr and "make migrate" in res.stderr
    finally:
        with psycopg.connect(pg.superuser_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def test_a_file_that_is_not_a_devdiag_store_is_refused(warehouse, tmp_path):
    """A text file or a SQLite file without the tables: one line, status 2."""
    import sqlite3

    from tests.sync.sync_support import run_sync

    junk = tmp_path / "junk.db"
    junk.write_text("hello, not a database\n" * 100)
    res = run_sync(junk, warehouse, cwd=tmp_path)
    assert res.returncode == 2 and len(error_lines(res.stderr)) == 1
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    res = run_sync(other, warehouse, cwd=tmp_path)
    assert res.returncode == 2 and "not a DevDiag learning store" in res.stderr


def test_sync_role_login_can_sync_and_a_plain_writer_cannot(store, pg, warehouse, sync):
    """The sync needs only devdiag_syncer: a login in it syncs runs, outcomes and rejects; a login in
    devdiag_writer alone stops with status 2 and one line naming devdiag_syncer."""
    dbname = warehouse.split("/")[3].split("?")[0]
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS sync_login_t")
        conn.execute("DROP ROLE IF EXISTS writer_login_t")
        conn.execute("CREATE ROLE sync_login_t LOGIN IN ROLE devdiag_syncer")
        conn.execute("CREATE ROLE writer_login_t LOGIN IN ROLE devdiag_writer")
    try:
        s = store()
        s.add_runs([run_row(i) for i in range(3)])
        s.add_raw_run(ts=T0, tenant="acme", target_hash=digest("x"), problems="[", evidence="{}")
        s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 2, 0.5)
        res = sync(s, pg.dsn(dbname, "writer_login_t"), "--quiet", rc=2)
        assert len(res.stderr.strip().splitlines()) == 1 and "devdiag_syncer" in res.stderr
        res = sync(s, pg.dsn(dbname, "sync_login_t"), "--quiet", rc=1)
        assert "3 landed" in res.stdout and "1 new rejects" in res.stdout
        s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 1, 0.5)
        sync(s, pg.dsn(dbname, "sync_login_t"), "--quiet", rc=0)
        assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(3,)]
    finally:
        with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
            for login in ("sync_login_t", "writer_login_t"):
                conn.execute(f"REASSIGN OWNED BY {login} TO devdiag")
                conn.execute(f"DROP OWNED BY {login}")
                conn.execute(f"DROP ROLE {login}")


def test_resync_from_start_skips_runs_already_landed_or_archived(store, warehouse, sync):
    """--from-start re-reads every run; those in diag_run or moved to the archive are not landed again."""
    s = store()
    s.add_runs([run_row(i) for i in range(10)])
    sync(s, warehouse)
    with psycopg.connect(warehouse) as conn:
        conn.execute("""
            WITH moved AS (DELETE FROM devdiag.diag_run WHERE source_run_id <= 4 RETURNING *)
            INSERT INTO devdiag.diag_run_archive
                (id, ts, tenant, target_hash, env_fp, problems, evidence, preset, source_id, source_run_id)
            SELECT id, ts, tenant, target_hash, env_fp, problems, evidence, preset, source_id, source_run_id
            FROM moved""")
    res = sync(s, warehouse, "--from-start", "--quiet")
    assert "runs 10 read, 0 landed, 10 already present" in res.stdout
    assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run") == [(6,)]
    assert query(warehouse, "SELECT count(*) FROM devdiag.v_run_all") == [(10,)]


def test_a_watermark_lowered_by_hand_never_duplicates_runs(store, warehouse, sync):
    """Even with the watermark and high water reset behind the sync's back, each run stays once."""
    s = store()
    s.add_runs([run_row(i) for i in range(10)])
    sync(s, warehouse)
    with psycopg.connect(warehouse) as conn:
        conn.execute("UPDATE devdiag.sync_source SET run_watermark = 0, run_high_water = 0")
    s.add_runs([run_row(i) for i in range(10, 12)])
    res = sync(s, warehouse, "--quiet")
    assert "runs 12 read, 2 landed, 10 already present, 0 rejected" in res.stdout
    assert query(warehouse, "SELECT count(*), count(DISTINCT source_run_id) FROM devdiag.diag_run") == [(12, 12)]


def test_a_run_resent_after_its_day_was_archived_is_already_present(store, warehouse, sync):
    """Runs over four UTC days, two days archived whole by the retention function: a re-sync lands nothing again."""
    s = store()
    s.add_runs([run_row(i, ts=T0 + 86_400 * (i // 3)) for i in range(12)])
    sync(s, warehouse)
    with psycopg.connect(warehouse) as conn:
        # the days of the first six runs end before this cutoff; the key (tenant, source identity, ts) is per day
        moved = conn.execute("SELECT devdiag.archive_run_days(10, to_timestamp(%s))", (T0 + 86_400 * 2,)).fetchone()[0]
        assert moved == 6
        # a lowered high water sends them as new; some are live (a conflict), the archived ones must be found too
        conn.execute("UPDATE devdiag.sync_source SET run_watermark = 0, run_high_water = 0")
    s.add_runs([run_row(12, ts=T0 + 86_400 * 5)])
    res = sync(s, warehouse, "--quiet")
    assert "runs 13 read, 1 landed, 12 already present, 0 rejected" in res.stdout
    res = sync(s, warehouse, "--from-start", "--quiet")
    assert "runs 13 read, 0 landed, 13 already present" in res.stdout
    assert query(warehouse, "SELECT count(*), count(DISTINCT source_run_id) FROM devdiag.diag_run_archive") == [(6, 6)]
    assert query(warehouse, "SELECT count(*) FROM devdiag.v_run_all") == [(13,)]


def test_progress_bar_on_a_terminal_and_not_under_cron(store, warehouse, sync, tmp_path):
    """On a terminal the sync draws a progress bar on stderr; piped (cron, CI) it prints none."""
    import os
    import pty
    import subprocess


    s = store()
    s.add_runs([run_row(i) for i in range(3000)])
    res = sync(s, warehouse, "--batch-rows", "500")
    assert "%|" not in res.stderr and "%|" not in res.stdout
    s.add_runs([run_row(i) for i in range(3000, 6000)])
    master, slave = pty.openpty()
    env = dict(os.environ, SQLITE_PATH=str(s.path), PG_DSN=warehouse,
               DEVDIAG_CONFIG=str(tmp_path / "absent.yaml"))
    proc = subprocess.Popen([*command("sync"), "--batch-rows", "500"], env=env, cwd=tmp_path,
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert "%|" in text and "3.00k/3.00k" in text, text[-500:]
    assert "runs 3000 read, 3000 landed" in text


def test_support_lowered_at_the_source_is_subtracted_never_below_zero(store, warehouse, sync):
    """A source that lowers its total (a correction) takes its own share back; other sources keep theirs."""
    a, b = store("a.db"), store("b.db")
    fa = a.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 5, 0.6)
    b.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 2, 0.7)
    sync(a, warehouse, "--source", "a")
    sync(b, warehouse, "--source", "b")
    assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(7,)]
    a.conn.execute("UPDATE fix_outcome SET support = 1, confidence = 0.3 WHERE id = ?", (fa,))
    sync(a, warehouse, "--source", "a")
    assert query(warehouse, "SELECT support, confidence FROM devdiag.fix_outcome") == [(3, 0.3)]
    with psycopg.connect(warehouse) as conn:  # someone zeroed the warehouse row by hand
        conn.execute("UPDATE devdiag.fix_outcome SET support = 0")
    a.conn.execute("UPDATE fix_outcome SET support = 0 WHERE id = ?", (fa,))
    sync(a, warehouse, "--source", "a")
    assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(0,)]


def test_a_damaged_store_is_one_line_and_exit_2(store, warehouse, sync):
    """A store whose table pages are corrupt stops the sync with status 2 and one line naming the damage."""
    s = store()
    s.add_runs([run_row(i, evidence={"csp": "x" * 200}) for i in range(2_000)])
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = s.conn.execute("PRAGMA page_size").fetchone()[0]
    s.close()
    with open(s.path, "r+b") as fh:
        # Keep the header, the schema and the first runs; scramble table pages further in.
        fh.seek(60 * page)
        fh.write(bytes((i * 7 + 3) % 256 for i in range(40 * page)))
    res = sync(s, warehouse, "--quiet", rc=2)
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert f"SQLite store {s.path} is damaged" in res.stderr


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "3"])
def test_a_long_sync_folds_beside_its_landing_and_the_rollups_are_exact(store, pg, fresh_db, warehouse, sync,
                                                                         workers):
    """Batches already landed are folded on a second connection while the next ones land, and the last ones
    on one connection per set of tenants (or on one); the rollups then equal a rebuild from the raw runs, and
    every day's partition (one whose only run is rejected too) was made before the landing began."""
    import random

    from tests.sync.sync_support import full_state

    rng = random.Random(7)
    s = store()
    rows = [run_row(i, tenant=rng.choice(["acme", "globex", "acme", "initech"]), ts=T0 + 900 * i,
                    problems=rng.sample(["CSP", "XFO", "CORS"], rng.randint(0, 2)),
                    preset=rng.choice(["embed", "app", "full"]), target=digest(f"t{rng.randint(0, 30)}"))
            for i in range(3000)]
    s.add_runs(rows)
    lonely_day = T0 + 900 * 3000 + 5 * 86400
    s.add_raw_run(ts=lonely_day, tenant="", target_hash=digest("lonely"), problems="[]", evidence="{}")
    dbname = fresh_db
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as su:
        su.execute(sql.SQL("ALTER DATABASE {} SET track_functions = 'pl'").format(sql.Identifier(dbname)))
    res = sync(s, warehouse, "--quiet", "--batch-rows", "250", "--fold-workers", workers, rc=1)  # a bad run
    assert "a fold beside the landing failed" not in res.stdout
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as su:
        calls = su.execute("""SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions
                              WHERE schemaname = 'devdiag' AND funcname = 'refresh_rollups'""").fetchone()[0]
        day = datetime.fromtimestamp(lonely_day, timezone.utc).strftime("%Y%m%d")
        made = su.execute("SELECT to_regclass(%s) IS NOT NULL", (f"devdiag_part.diag_run_p{day}",)).fetchone()[0]
    # folds beside the landing, one per set of tenants at its end (three tenants), then the closing refresh
    assert calls >= (2 if workers == "1" else 1 + 3 + 1), calls
    assert made
    folded = full_state(warehouse)
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as su:
        su.execute("SELECT devdiag.rollup_rebuild()")
    assert full_state(warehouse) == folded


def test_a_fold_workers_below_one_is_refused_by_name(store, warehouse, sync):
    s = store()
    s.add_runs([run_row(1)])
    res = sync(s, warehouse, "--fold-workers", "0", rc=2)
    assert error_lines(res.stderr) == ["error: --fold-workers must be at least 1"]
    assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run") == [(0,)]


def test_tenants_are_split_into_sets_of_about_equal_runs():
    from devdiag_warehouse.refresh import split_tenants

    runs = {"a": 50, "b": 30, "c": 20, "d": 15, "e": 10, "f": 5}
    sets = split_tenants(runs, 2)
    assert sorted(sum(runs[t] for t in s) for s in sets) == [65, 65]
    assert sorted(t for s in sets for t in s) == sorted(runs)
    assert split_tenants(runs, 1) == [sorted(runs)]
    assert split_tenants({"a": 3}, 4) == [["a"]]          # never an empty set
    assert split_tenants({}, 2) == []


def test_folds_of_disjoint_tenant_sets_side_by_side_are_exact(pg, warehouse):
    """The sync's last folds: one connection per set of tenants at once, each moving only its tenants'
    watermarks; the all-tenant refresh after them folds nothing twice and the rollups equal a rebuild."""
    from devdiag_warehouse.refresh import fold_side_by_side
    from tests.sync.sync_support import full_state

    with psycopg.connect(warehouse, autocommit=True) as conn:
        for k, tenant in enumerate(["acme", "globex", "initech", "hooli"]):
            conn.execute(
                "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, preset) "
                "SELECT now() - make_interval(mins => g * 7), %s, md5((g %% 5)::text), 'env', "
                "CASE WHEN g %% 3 = 0 THEN '[]' ELSE '[\"CSP\"]' END::jsonb, 'full' "
                "FROM generate_series(1, %s) AS g", (tenant, 40 + 10 * k))
        assert fold_side_by_side(warehouse, [["acme", "hooli"], ["globex", "initech"]], 5.0) == (40 + 60 + 50 + 70, [])
        marks = conn.execute("SELECT tenant FROM devdiag_rollup.rollup_tenant_watermark ORDER BY 1").fetchall()
        assert marks == [("acme",), ("globex",), ("hooli",), ("initech",)]
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (0,)
        folded = full_state(warehouse)
        conn.execute("SELECT devdiag.rollup_rebuild()")
    assert full_state(warehouse) == folded


@pytest.mark.parametrize("early", [True, False])
def test_the_fold_beside_the_landing_ends_early_only_with_most_of_its_work_ahead(pg, warehouse, early):
    """At the landing's end the pass running is cancelled when it has run less than half as long as the pass
    before it took (its runs are then folded by the folds after it), and otherwise runs to its end; a
    cancelled pass leaves nothing folded and reports no failure."""
    import time

    from devdiag_warehouse.sync.land import Refresher

    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, preset) "
                     "SELECT now() - make_interval(secs => g), 'acme', md5((g % 2000)::text), md5(g::text), "
                     "'[\"CSP\"]', 'full' FROM generate_series(1, 60000) AS g")
        refresher = Refresher(warehouse, 5.0)
        refresher.last_pass_s = 3600.0 if early else 0.001
        refresher.start()
        refresher.nudge()
        deadline = time.monotonic() + 30
        while not refresher.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # inside the pass
        assert refresher.stop() is early
        assert refresher.error is None
        pending = conn.execute("SELECT coalesce(sum(runs), 0) FROM devdiag.rollup_pending_runs()").fetchone()[0]
        assert pending == (60000 if early else 0)
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (60000 if early else 0,)


def test_stopping_an_idle_fold_beside_the_landing_returns_at_once(pg, warehouse):
    """At the landing's end the background fold may be waiting for a batch (a re-run after a kill, with little
    left to land): stop() wakes it, and the sync goes on to its closing refresh instead of waiting forever."""
    import threading
    import time

    from devdiag_warehouse.sync.land import Refresher

    refresher = Refresher(warehouse, 5.0)
    refresher.start()
    refresher.nudge()
    deadline = time.monotonic() + 30
    while (refresher.busy or refresher.wanted or refresher.last_pass_s is None) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # waiting for the next nudge
    assert refresher.is_alive() and not refresher.busy
    stopper = threading.Thread(target=refresher.stop, daemon=True)
    stopper.start()
    stopper.join(15)
    assert not stopper.is_alive(), "stop() of an idle refresher never returned"
    assert not refresher.is_alive() and refresher.error is None


def test_a_failed_fold_of_one_set_leaves_its_runs_to_the_all_tenant_refresh(pg, warehouse):
    """One set's fold fails (a tenant name PostgreSQL cannot take): the other set's runs are counted as folded,
    the failure is returned, and the all-tenant refresh folds the rest exactly once."""
    from devdiag_warehouse.refresh import fold_side_by_side

    with psycopg.connect(warehouse, autocommit=True) as conn:
        for tenant, n in (("acme", 12), ("globex", 7)):
            conn.execute("INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) "
                         "SELECT now() - make_interval(mins => g), %s, md5(g::text), '[\"CSP\"]', 'full' "
                         "FROM generate_series(1, %s) AS g", (tenant, n))
        folded, errors = fold_side_by_side(warehouse, [["acme"], ["globex", "bad\x00name"]], 5.0)
        assert folded == 12 and len(errors) == 1
        assert conn.execute("CALL devdiag.refresh_rollups()").fetchone() == (7,)
        assert query(warehouse, "SELECT tenant, sum(runs) FROM devdiag_rollup.rollup_tenant_total "
                                "GROUP BY 1 ORDER BY 1") == [("acme", 12), ("globex", 7)]
