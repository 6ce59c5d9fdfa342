"""Bad rows go to devdiag.sync_reject with source, SQLite id, raw row and
reason, while the rest of the sync lands; the exit status says so."""

from __future__ import annotations

import json

import pytest

from tests.commands import error_lines
from tests.sync.sync_support import T0, digest, query, run_row

GOOD_TARGET = digest("https://acme.example.com/")

# (what is wrong, the bad run's columns, a fragment of the reason)
BAD_RUNS = [
    ("problems is not JSON", dict(problems='["CSP", '), "problems is not valid JSON"),
    ("evidence is not JSON", dict(evidence="{csp: 1}"), "evidence is not valid JSON"),
    ("problems is an object", dict(problems='{"CSP": 1}'), "problems is not a JSON array"),
    ("problems is a string", dict(problems='"CSP"'), "problems is not a JSON array"),
    ("problems holds a number", dict(problems='["CSP", 3]'), "not a string"),
    ("problems holds a nested array", dict(problems='[["CSP"]]'), "not a string"),
    ("problems holds an empty code", dict(problems='[""]'), "empty string"),
    ("NaN in problems", dict(problems="[NaN]"), "NaN"),
    ("NaN in evidence", dict(evidence='{"csp": NaN}'), "NaN"),
    ("Infinity in evidence", dict(evidence='{"server": -Infinity}'), "Infinity"),
    ("\\u0000 in problems", dict(problems='["CSP\\u0000"]'), "\\u0000"),
    ("\\u0000 in evidence", dict(evidence='{"csp": "a\\u0000b"}'), "\\u0000"),
    ("NUL character in tenant", dict(tenant="ac\x00me"), "NUL"),
    ("evidence is an array", dict(evidence='["csp"]'), "evidence is not a JSON object"),
    ("NULL tenant", dict(tenant=None), "tenant is NULL"),
    ("empty tenant", dict(tenant=""), "tenant is empty"),
    ("NULL ts", dict(ts=None), "ts is NULL"),
    ("text ts", dict(ts="yesterday"), "ts is not a number"),
    ("ts out of range", dict(ts=10**15), "out of range"),
    ("NULL target", dict(target_hash=None), "target_hash is NULL"),
    ("NULL problems", dict(problems=None), "problems is NULL"),
    ("unknown preset", dict(preset="turbo"), "unknown preset 'turbo'"),
    ("blob tenant", dict(tenant=b"\x01\x02"), "tenant is not text"),
    ("invalid UTF-8 env_fp", dict(env_fp=b"\xff\xfe"), "env_fp is not text"),
    # Refused by PostgreSQL itself (Python's JSON parser accepts both): found by
    # halving the batch until the row is isolated, the rest of the batch lands.
    ("lone surrogate in problems", dict(problems='["\\ud800"]'), "refused by the warehouse"),
    # Over the warehouse's row limits (devdiag.row_limit, the same definition its checks use):
    # without them such rows fail inside a rollup's key and stop every later sync.
    ("tenant too long for an index", dict(tenant="".join(digest(str(i)) for i in range(150))),
     "tenant is 9600 bytes, over the warehouse's limit of 128"),
    ("tenant one byte over the limit", dict(tenant="t" * 127 + "é"), "tenant is 129 bytes"),
    ("problem code of 4,000 characters", dict(problems=json.dumps(["CSP", "P" * 4000])),
     "problem code is 4000 bytes, over the warehouse's limit of 256"),
    ("env_fp of 4 kB", dict(env_fp="e" * 4096), "env_fp is 4096 bytes, over the warehouse's limit of 512"),
    ("evidence over 32 kB", dict(evidence=json.dumps({"csp": "x" * 40_000})),
     "over the warehouse's limit of 32768"),
    ("ts far in the future", dict(ts=4_102_444_800), "ts 2100-01-01T00:00:00+00:00 is in the future"),
]


def valid_columns(i: int) -> dict:
    ts, tenant, target, env, problems, evidence, preset = run_row(i)
    return dict(ts=ts, tenant=tenant, target_hash=target, env_fp=env, problems=problems, evidence=evidence,
                preset=preset)


@pytest.mark.parametrize("what, bad, reason", BAD_RUNS, ids=[b[0] for b in BAD_RUNS])
def test_bad_run_is_rejected_with_reason_and_the_rest_lands(store, warehouse, sync, what, bad, reason):
    """The bad run is filed with its source, SQLite id, raw row and reason; the runs around it land; exit 1."""
    s = store()
    s.add_runs([run_row(i) for i in range(5)])
    bad_id = s.add_raw_run(**{**valid_columns(5), **bad})
    s.add_runs([run_row(i) for i in range(6, 10)])
    res = sync(s, warehouse, "--quiet", "--batch-rows", "4", rc=1)
    assert "9 landed" in res.stdout and "1 rejected" in res.stdout and "1 new rejects" in res.stdout
    assert [r[0] for r in query(warehouse, "SELECT source_run_id FROM devdiag.diag_run ORDER BY 1")] == [
        i for i in range(1, 11) if i != bad_id]
    (name, table, sqlite_id, raw, got_reason), = query(warehouse, """
        SELECT s.name, r.table_name, r.sqlite_id, r.raw_row, r.reason
        FROM devdiag.sync_reject r JOIN devdiag.sync_source s ON s.id = r.source_id""")
    assert (table, sqlite_id) == ("diag_run", bad_id) and name.startswith("sqlite-")
    assert reason in got_reason
    raw_row = json.loads(raw)
    assert set(raw_row) >= {"ts", "tenant", "problems", "preset"}
    assert query(warehouse, "SELECT run_watermark, rows_rejected FROM devdiag.sync_source") == [(10, 1)]


def test_a_rejected_row_is_not_counted_again_by_later_syncs(store, warehouse, sync):
    """Once filed, a reject stays one row: a later sync (even from the start) exits 0 for it."""
    s = store()
    s.add_runs([run_row(0)])
    s.add_raw_run(**{**valid_columns(1), "preset": "turbo"})
    sync(s, warehouse, rc=1)
    s.add_runs([run_row(2)])
    res = sync(s, warehouse, "--quiet", rc=0)
    assert "1 landed" in res.stdout
    res = sync(s, warehouse, "--quiet", "--from-start", rc=0)
    assert "0 landed, 2 already present, 1 rejected" in res.stdout and "(1 already known)" in res.stdout
    assert query(warehouse, "SELECT count(*) FROM devdiag.sync_reject") == [(1,)]
    assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run") == [(2,)]


def test_raw_row_of_a_reject_obeys_the_privacy_rules(store, warehouse, sync):
    """A rejected row's raw copy holds the target's hash, never the URL, and only kept evidence keys."""
    s = store()
    s.add_raw_run(ts=T0, tenant="acme", target_hash="https://acme.example.com/?session=s3cret",
                  problems="oops", evidence='{"csp": "x", "cookie": "id=s3cret"}', preset="app")
    s.add_raw_run(ts=T0, tenant="acme", target_hash=GOOD_TARGET, problems='["P"]',
                  evidence='{"cookie": "id=s3cret", ', preset="app")
    sync(s, warehouse, rc=1)
    raws = [json.loads(r[0]) for r in query(warehouse, "SELECT raw_row FROM devdiag.sync_reject ORDER BY sqlite_id")]
    assert "s3cret" not in json.dumps(raws)
    assert raws[0]["target_hash"] == digest("https://acme.example.com/?session=s3cret")
    assert raws[0]["evidence"] == {"csp": "x"} and raws[0]["problems"] == "oops"
    assert raws[1]["evidence"]["withheld"] and raws[1]["evidence"]["length"] == len('{"cookie": "id=s3cret", ')


def test_raw_targets_are_rejected_when_hash_targets_is_off(store, warehouse, sync, tmp_path):
    """With learn.privacy.hash_targets off, a URL target is refused (it would leak), a hex digest lands."""
    s = store()
    s.add_runs([run_row(0, target="https://acme.example.com/"), run_row(1)])
    cfg = tmp_path / "devdiag.yaml"
    cfg.write_text("learn:\n  privacy:\n    hash_targets: false\n")
    res = sync(s, warehouse, "--quiet", env={"DEVDIAG_CONFIG": str(cfg)}, rc=1)
    assert "1 landed" in res.stdout
    assert query(warehouse, "SELECT sqlite_id, reason FROM devdiag.sync_reject") == [
        (1, "target_hash is not a hex digest and learn.privacy.hash_targets is off")]


def test_missing_evidence_is_an_empty_object_not_a_reject(store, warehouse, sync):
    """Evidence is optional context: a NULL becomes {} and the run lands."""
    s = store()
    s.add_raw_run(**{**valid_columns(0), "evidence": None})
    sync(s, warehouse)
    assert query(warehouse, "SELECT evidence FROM devdiag.diag_run") == [({},)]


BAD_FIXES = [
    ("NULL confidence", dict(confidence=None), "confidence is NULL"),
    ("NaN confidence", dict(confidence="NaN"), "confidence is not a number"),
    ("confidence above 1", dict(confidence=1.5), "outside [0, 1]"),
    ("negative support", dict(support=-2), "negative"),
    ("fractional support", dict(support=2.5), "not an integer"),
    ("NULL support", dict(support=None), "support is NULL"),
    ("NULL problem_code", dict(problem_code=None), "problem_code is NULL"),
    ("empty fix_code", dict(fix_code=""), "fix_code is empty"),
    ("NULL ts", dict(ts=None), "ts is NULL"),
    ("NUL in notes", dict(notes="a\x00b"), "NUL"),
    # Refused by PostgreSQL (the pair's unique index): isolated by halving, the other pairs land.
    ("problem_code too long for an index", dict(problem_code="".join(digest(str(i)) for i in range(150))),
     "problem_code is 9600 bytes, over the warehouse's limit of 256"),
    ("fix_code over the limit", dict(fix_code="F" * 257), "fix_code is 257 bytes, over the warehouse's limit of 256"),
    ("env_fp of 4 kB", dict(env_fp="e" * 4096), "env_fp is 4096 bytes, over the warehouse's limit of 512"),
    ("tenant over the limit", dict(tenant="t" * 129), "tenant is 129 bytes, over the warehouse's limit of 128"),
]


@pytest.mark.parametrize("what, bad, reason", BAD_FIXES, ids=[b[0] for b in BAD_FIXES])
def test_bad_fix_outcome_is_rejected_and_the_others_land(store, warehouse, sync, what, bad, reason):
    """A bad fix outcome row is filed with its reason; the other outcomes and the runs land; exit 1."""
    s = store()
    s.add_runs([run_row(0)])
    s.credit("acme", "XFO_DENY", "xfo.remove_header", "env-1", 2, 0.5)
    cols = dict(ts=T0, tenant="acme", problem_code="CSP", fix_code="csp.fix", confidence=0.7, support=3,
                env_fp="env-1", notes=None)
    bad_id = s.add_raw_fix(**{**cols, **bad})
    res = sync(s, warehouse, "--quiet", rc=1)
    assert "fix outcomes 2 read, 1 changed, 1 rejected" in res.stdout
    assert query(warehouse, "SELECT problem_code, support FROM devdiag.fix_outcome") == [("XFO_DENY", 2)]
    (table, sqlite_id, got_reason, raw), = query(
        warehouse, "SELECT table_name, sqlite_id, reason, raw_row FROM devdiag.sync_reject")
    assert (table, sqlite_id) == ("fix_outcome", bad_id) and reason in got_reason
    assert json.loads(raw)["tenant"] == {**cols, **bad}["tenant"]
    # The bad row is still in the store: the next sync knows the reject and says nothing new.
    sync(s, warehouse, "--quiet", rc=0)
    assert query(warehouse, "SELECT count(*) FROM devdiag.sync_reject") == [(1,)]


def test_null_env_fp_duplicates_merge_into_one_warehouse_pair(store, warehouse, sync):
    """SQLite's UNIQUE lets NULL env_fp repeat; the warehouse holds one pair with their summed support."""
    s = store()
    for support, conf in ((2, 0.4), (3, 0.9)):
        s.add_raw_fix(ts=T0, tenant="acme", problem_code="P", fix_code="F", confidence=conf, support=support,
                      env_fp=None)
    sync(s, warehouse)
    assert query(warehouse, "SELECT env_fp, support, confidence FROM devdiag.fix_outcome") == [(None, 5, 0.9)]
    sync(s, warehouse)
    assert query(warehouse, "SELECT support FROM devdiag.fix_outcome") == [(5,)]


def test_a_failing_trigger_stops_the_sync_instead_of_rejecting_good_rows(store, pg, warehouse, sync):
    """A refusal raised for another table (a broken rollup trigger) is the warehouse's fault: exit 2, no rejects."""
    import psycopg

    dbname = warehouse.split("/")[3].split("?")[0]
    setup = """
        CREATE TABLE public.sync_guard (x integer CONSTRAINT sync_guard_positive CHECK (x > 0));
        GRANT INSERT ON public.sync_guard TO PUBLIC;
        CREATE FUNCTION public.sync_guard_fail() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN INSERT INTO public.sync_guard VALUES (-1); RETURN NULL; END $$;
        CREATE TRIGGER sync_guard AFTER INSERT ON devdiag.diag_run
            FOR EACH STATEMENT EXECUTE FUNCTION public.sync_guard_fail();
    """
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        conn.execute(setup)
    s = store()
    s.add_runs([run_row(i) for i in range(50)])
    res = sync(s, warehouse, "--batch-rows", "20", rc=2)
    assert "not in the rows" in res.stderr and "sync_guard" in res.stderr
    assert len(error_lines(res.stderr)) == 1
    assert query(warehouse, "SELECT count(*) FROM devdiag.diag_run") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM devdiag.sync_reject") == [(0,)]
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        conn.execute("DROP TRIGGER sync_guard ON devdiag.diag_run")
    res = sync(s, warehouse, "--quiet")
    assert "50 landed" in res.stdout


def test_the_sync_takes_its_limits_from_the_warehouse(store, pg, warehouse, sync):
    """The sync applies devdiag.row_limit as the warehouse defines it: lowered there, the sync follows."""
    import psycopg

    dbname = warehouse.split("/")[3].split("?")[0]
    with psycopg.connect(pg.superuser_dsn(dbname), autocommit=True) as conn:
        body = conn.execute("SELECT pg_get_functiondef('devdiag.row_limit(text)'::regprocedure)").fetchone()[0]
        conn.execute(body.replace("THEN 128", "THEN 10"))
    s = store()
    s.add_runs([run_row(0, tenant="t" * 10), run_row(1, tenant="t" * 11)])
    res = sync(s, warehouse, "--quiet", rc=1)
    assert "1 landed" in res.stdout
    assert [r[0] for r in query(warehouse, "SELECT reason FROM devdiag.sync_reject")] == [
        "tenant is 11 bytes, over the warehouse's limit of 10 (devdiag.row_limit)"]


def test_an_odd_length_hex_target_is_hashed_like_any_raw_target(store, warehouse, sync):
    """A target of 33 hex digits is no digest (the tables require whole bytes): it lands as its SHA-256."""
    s = store()
    odd = "a" * 33
    s.add_runs([run_row(0, target=odd), run_row(1, target="A" * 64)])
    sync(s, warehouse, "--quiet")
    assert query(warehouse, "SELECT target_hash FROM devdiag.diag_run ORDER BY source_run_id") == [
        (digest(odd),), ("a" * 64,)]


def test_a_run_the_future_trigger_refuses_counts_as_the_rows_fault(warehouse):
    """Should the warehouse's clock disagree with the sync's check, its trigger's refusal is filed as a reject
    (it names diag_run and its rule like a constraint), not taken for a fault that stops the sync."""
    import psycopg

    from devdiag_warehouse import sync as sync_mod
    with psycopg.connect(warehouse) as conn:
        with pytest.raises(psycopg.errors.CheckViolation) as exc:
            conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash)
                            VALUES (now() + interval '1 day', 'acme', repeat('ab', 32))""")
    assert sync_mod.caused_by_rows(exc.value, sync_mod.RUN_TABLES)
