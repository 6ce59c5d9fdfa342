"""The rollup-backed views equal their raw-data references after every kind of change.

Each seed interleaves, at random, batches of new runs (out of order, late,
ts ties on one target, duplicate codes, NULL presets and environments),
runs re-sent by the sync (its source identity makes them land once), updates
and deletes in either table, archive moves by the retention job, archive
moves written as two statements, moves back to live, purges, direct archive
writes, fix outcome upserts and deletes, a TRUNCATE, and refreshes of the
rollups (of one tenant, then of all). Several changes pile up between two
refreshes, so runs changed, moved or purged before they were ever folded are
covered too. After every refresh, and at the end, each contract view is
compared, row for row, with the v_ref_* view computed from the raw runs. Confidences are multiples of 1/64, so means compare exactly.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.rollups.rollup_support import mismatches

TENANTS = ["acme", "globex", "O'Hara; --"]
CODES = ["CSP", "XFO", "CORS", "Mixed_Content"]
PRESETS = ["chat", "embed", "app", "full", None]
ENVS = ["env-a", "env-b", "", None]
FIXES = ["fix-1", "fix-2", "fix-3"]
SEEDS = [3, 7, 11, 19, 23, 42]


class World:
    """Random operations on one warehouse connection, each a statement or two."""

    def __init__(self, conn: psycopg.Connection, seed: int):
        self.conn = conn
        self.rng = random.Random(seed)
        self.now = conn.execute("SELECT now()").fetchone()[0]
        self.targets = [(t, hashlib.sha256(f"{t}/{i}".encode()).hexdigest()) for t in TENANTS for i in range(3)]
        self.stamps: list[datetime] = []
        self.sent: list[tuple] = []  # rows sent with a source identity, for re-sending
        self.next_source_run = 1
        self.last_op = ""

    # -- random values ------------------------------------------------------------
    def ts(self) -> datetime:
        r = self.rng.random()
        if self.stamps and r < 0.15:
            return self.rng.choice(self.stamps)  # a tie with an earlier run
        if r < 0.3:
            # around the 168-hour edge and the hour it falls in
            base = self.now - timedelta(hours=168)
            return base + timedelta(minutes=self.rng.uniform(-90, 90))
        if r < 0.4:
            # around a UTC midnight
            day = (self.now - timedelta(days=self.rng.randint(1, 25))).replace(hour=0, minute=0, second=0,
                                                                              microsecond=0)
            return day + timedelta(seconds=self.rng.choice([-1, 0, 1]))
        return self.now - timedelta(days=self.rng.uniform(0, 30))

    def problems(self) -> list[str]:
        codes = [c for c in CODES if self.rng.random() < 0.3]
        if codes and self.rng.random() < 0.1:
            codes.append(codes[0])  # listed twice
        return codes

    def run(self) -> tuple:
        tenant, target = self.rng.choice(self.targets)
        ts = self.ts()
        self.stamps.append(ts)
        return (ts, tenant, target, self.rng.choice(ENVS), Jsonb(self.problems()), self.rng.choice(PRESETS))

    def some(self, table: str, k: int) -> list[tuple]:
        return self.conn.execute(
            f"SELECT tenant, id FROM devdiag.{table} ORDER BY random() LIMIT %s", (k,)).fetchall()  # noqa: S608

    # -- operations ---------------------------------------------------------------
    def insert(self):
        rows = [self.run() for _ in range(self.rng.randint(1, 25))]
        self.conn.cursor().executemany(
            "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, preset) "
            "VALUES (%s, %s, %s, %s, %s, %s)", rows)

    def insert_one_statement(self):
        rows = [self.run() for _ in range(self.rng.randint(5, 60))]
        cols = list(zip(*rows))
        self.conn.execute(
            """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, preset)
               SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::jsonb[], %s::text[])""",
            [list(c) for c in cols])

    def sync_batch(self):
        """New and re-sent runs with a source identity, as the sync lands them (re-sent ones land once)."""
        rows = []
        for _ in range(self.rng.randint(1, 20)):
            if self.sent and self.rng.random() < 0.4:
                rows.append(self.rng.choice(self.sent))
            else:
                row = (self.next_source_run,) + self.run()
                self.next_source_run += 1
                self.sent.append(row)
                rows.append(row)
        cols = list(zip(*rows))
        self.conn.execute(
            """INSERT INTO devdiag.diag_run (source_id, source_run_id, ts, tenant, target_hash, env_fp, problems, preset)
               SELECT 1, s.* FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::text[], %s::text[],
                                         %s::jsonb[], %s::text[])
                   AS s (source_run_id, ts, tenant, target_hash, env_fp, problems, preset)
               WHERE NOT EXISTS (SELECT FROM devdiag.diag_run_archive AS a
                                 WHERE a.source_id = 1 AND a.source_run_id = s.source_run_id AND a.tenant = s.tenant)
               ON CONFLICT ON CONSTRAINT diag_run_source_identity_unique DO NOTHING""",
            [list(c) for c in cols])

    def delete_live(self):
        keys = self.some("diag_run", self.rng.randint(1, 6))
        self.conn.execute("DELETE FROM devdiag.diag_run WHERE (tenant, id) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))",
                          [[k[0] for k in keys], [k[1] for k in keys]])

    def update_live(self):
        for tenant, rid in self.some("diag_run", self.rng.randint(1, 4)):
            what = self.rng.choice(["problems", "preset", "ts", "env"])
            if what == "problems":
                self.conn.execute("UPDATE devdiag.diag_run SET problems = %s WHERE tenant = %s AND id = %s",
                                  (Jsonb(self.problems()), tenant, rid))
            elif what == "preset":
                self.conn.execute("UPDATE devdiag.diag_run SET preset = %s WHERE tenant = %s AND id = %s",
                                  (self.rng.choice(PRESETS), tenant, rid))
            elif what == "ts":
                self.conn.execute("UPDATE devdiag.diag_run SET ts = %s WHERE tenant = %s AND id = %s",
                                  (self.ts(), tenant, rid))
            else:
                self.conn.execute("UPDATE devdiag.diag_run SET env_fp = %s WHERE tenant = %s AND id = %s",
                                  (self.rng.choice(ENVS), tenant, rid))

    def update_many(self):
        """One UPDATE statement touching several runs of one target, including no-op changes."""
        tenant, target = self.rng.choice(self.targets)
        self.conn.execute(
            "UPDATE devdiag.diag_run SET preset = CASE WHEN random() < 0.5 THEN preset ELSE %s END, "
            "evidence = '{\"x\": 1}' WHERE tenant = %s AND target_hash = %s",
            (self.rng.choice(PRESETS), tenant, target))

    def archive_job(self):
        cutoff = self.now - timedelta(days=self.rng.uniform(0, 30))
        self.conn.execute("SELECT devdiag.archive_run_days(%s, %s)", (self.rng.randint(1, 40), cutoff))

    def archive_two_statements(self):
        """Copy to the archive first, delete from live second (a run sits in both tables in between)."""
        keys = self.some("diag_run", self.rng.randint(1, 8))
        args = [[k[0] for k in keys], [k[1] for k in keys]]
        self.conn.execute(
            """INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, env_fp, problems, evidence, preset,
                                                     source_id, source_run_id)
               SELECT id, ts, tenant, target_hash, env_fp, problems, evidence, preset, source_id, source_run_id
               FROM devdiag.diag_run WHERE (tenant, id) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))""", args)
        # in between, a run counts twice in the views, as in the references
        assert mismatches(self.conn) == {}
        self.conn.execute(
            "DELETE FROM devdiag.diag_run WHERE (tenant, id) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))",
            args)

    def restore_from_archive(self):
        """Move archived runs back to live in one statement (the reverse of the job)."""
        keys = self.some("diag_run_archive", self.rng.randint(1, 6))
        self.conn.execute(
            """WITH back AS (
                   DELETE FROM devdiag.diag_run_archive AS a
                   WHERE (a.tenant, a.id) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))
                     AND NOT EXISTS (SELECT FROM devdiag.diag_run AS d WHERE d.tenant = a.tenant AND d.id = a.id)
                   RETURNING a.*)
               INSERT INTO devdiag.diag_run (id, ts, tenant, target_hash, env_fp, problems, evidence, preset,
                                            source_id, source_run_id)
               SELECT id, ts, tenant, target_hash, env_fp, problems, evidence, preset, source_id, source_run_id
               FROM back""",
            [[k[0] for k in keys], [k[1] for k in keys]])

    def insert_archive_directly(self):
        ids = self.conn.execute("SELECT nextval(pg_get_serial_sequence('devdiag.diag_run', 'id')) "
                                "FROM generate_series(1, %s)", (self.rng.randint(1, 5),)).fetchall()
        for (rid,) in ids:
            ts, tenant, target, env, problems, preset = self.run()
            self.conn.execute(
                "INSERT INTO devdiag.diag_run_archive (id, ts, tenant, target_hash, env_fp, problems, evidence, preset) "
                "VALUES (%s, %s, %s, %s, %s, %s, '{}', %s)", (rid, ts, tenant, target, env, problems, preset))

    def update_archive(self):
        for tenant, rid in self.some("diag_run_archive", self.rng.randint(1, 3)):
            self.conn.execute("UPDATE devdiag.diag_run_archive SET problems = %s, preset = %s "
                              "WHERE tenant = %s AND id = %s",
                              (Jsonb(self.problems()), self.rng.choice(PRESETS), tenant, rid))

    def delete_archive(self):
        keys = self.some("diag_run_archive", self.rng.randint(1, 5))
        self.conn.execute(
            "DELETE FROM devdiag.diag_run_archive WHERE (tenant, id) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))",
            [[k[0] for k in keys], [k[1] for k in keys]])

    def purge_job(self):
        cutoff = self.now - timedelta(days=self.rng.uniform(5, 30))
        self.conn.execute("SELECT devdiag.purge_archive_days(%s, %s)", (self.rng.randint(1, 30), cutoff))

    def fixes(self):
        rows = []
        for _ in range(self.rng.randint(1, 6)):
            rows.append((self.now - timedelta(days=self.rng.uniform(0, 30)), self.rng.choice(TENANTS),
                         self.rng.choice(CODES), self.rng.choice(FIXES), self.rng.randint(0, 64) / 64,
                         self.rng.randint(0, 9), self.rng.choice(ENVS)))
        # duplicates of one pair in a statement would be refused by ON CONFLICT; keep the last
        rows = list({(r[1], r[2], r[3], r[6]): r for r in rows}.values())
        cols = list(zip(*rows))
        self.conn.execute(
            """INSERT INTO devdiag.fix_outcome AS f (ts, tenant, problem_code, fix_code, confidence, support, env_fp)
               SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::float8[],
                                    %s::bigint[], %s::text[])
               ON CONFLICT ON CONSTRAINT fix_outcome_pair_unique DO UPDATE
               SET support = f.support + excluded.support, confidence = excluded.confidence,
                   ts = greatest(f.ts, excluded.ts)""",
            [list(c) for c in cols])

    def delete_fixes(self):
        self.conn.execute("DELETE FROM devdiag.fix_outcome WHERE ctid IN "
                          "(SELECT ctid FROM devdiag.fix_outcome ORDER BY random() LIMIT %s)", (self.rng.randint(1, 3),))

    def truncate_archive(self):
        self.conn.execute("TRUNCATE devdiag.diag_run_archive")

    def refresh(self):
        if self.rng.random() < 0.5:
            tenant = self.rng.choice(TENANTS)
            self.conn.execute("CALL devdiag.refresh_rollups(%s)", (tenant,))
            # a refresh of one tenant leaves that tenant's rows exact
            assert mismatches(self.conn, refresh=False, tenant=tenant) == {}, f"after a refresh of {tenant}"
        self.conn.execute("CALL devdiag.refresh_rollups()")

    def step(self) -> str:
        ops = [(self.refresh, 5),
            (self.insert, 4), (self.insert_one_statement, 4), (self.sync_batch, 4), (self.delete_live, 2),
            (self.update_live, 2), (self.update_many, 1), (self.archive_job, 3), (self.archive_two_statements, 2),
            (self.restore_from_archive, 1), (self.insert_archive_directly, 1), (self.update_archive, 1),
            (self.delete_archive, 1), (self.purge_job, 1), (self.fixes, 2), (self.delete_fixes, 1),
            (self.truncate_archive, 0.2),
        ]
        op = self.rng.choices([o for o, _ in ops], weights=[w for _, w in ops])[0]
        self.last_op = op.__name__
        op()
        return op.__name__


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_every_view_equals_its_raw_reference_after_every_random_step(db, seed):
    """60 random writes and refreshes (inserts, late and re-sent runs, updates, deletes, moves, purges, fixes):
    no view drifts. Half the seeds have the episode replay probe each target's days, half scan them."""
    db.execute("SELECT set_config('TimeZone', %s, false)",
               (random.Random(seed).choice(["UTC", "America/New_York", "Asia/Kolkata"]),))
    db.execute("SELECT set_config('devdiag.replay_read', %s, false)", (["probe", "scan"][SEEDS.index(seed) % 2],))
    db.execute("SELECT setseed(%s)", (seed / 100,))  # the server's picks of rows, too
    world = World(db, seed)
    history = []
    for _ in range(60):
        try:
            history.append(world.step())
        except psycopg.Error as exc:
            pytest.fail(f"{type(exc).__name__} in {world.last_op} after {history} (now = {world.now}): {exc}")
        if history[-1] == "refresh":
            bad = mismatches(db, refresh=False)
            assert bad == {}, f"after {history}"
    assert history.count("refresh") >= 3
    assert mismatches(db) == {}, f"after {history}"
    counts = db.execute("SELECT (SELECT count(*) FROM devdiag.diag_run), (SELECT count(*) FROM devdiag.diag_run_archive), "
                        "(SELECT count(*) FROM devdiag.v_ttr_episodes)").fetchone()
    assert counts[0] > 0 and counts[2] > 0


def test_rebuild_from_raw_equals_incremental_maintenance(db):
    """After random changes, recomputing every rollup from scratch changes none of its rows."""
    world = World(db, 5)
    for _ in range(40):
        world.step()
    tables = [r[0] for r in db.execute(
        "SELECT DISTINCT btrim(k) FROM devdiag_rollup.rollup_registry, regexp_split_to_table(keeps, ',') AS k ORDER BY 1")]
    assert len(tables) == 14

    def dump():
        # as text: rollup_episode_day keeps open episodes under the date 'infinity', which Python has not
        return {t: sorted(db.execute(f"SELECT x::text FROM devdiag_rollup.{t} AS x").fetchall()) for t in tables}  # noqa: S608

    db.execute("CALL devdiag.refresh_rollups()")
    before = dump()
    db.execute("SELECT devdiag.rollup_rebuild()")
    assert dump() == before
    assert before["rollup_ttr_episode"] and before["rollup_problem_day"]


def test_archive_move_replays_no_episode(db):
    """The retention job's one-statement move nets out: counts back where they were, no episode replayed."""
    world = World(db, 9)
    for _ in range(15):
        world.insert_one_statement()
    db.execute("CALL devdiag.refresh_rollups()")
    before = db.execute("SELECT count(*), sum(runs) FROM devdiag_rollup.rollup_problem_day").fetchone()
    episodes = db.execute("SELECT ctid::text, * FROM devdiag_rollup.rollup_ttr_episode ORDER BY 2, 3, 4, 6").fetchall()
    moved = db.execute("SELECT devdiag.archive_run_days(100000, '2100-01-01')").fetchone()[0]
    assert moved > 100
    assert db.execute("SELECT count(*) FROM devdiag.diag_run").fetchone()[0] == 0
    assert db.execute("SELECT count(*), sum(runs) FROM devdiag_rollup.rollup_problem_day").fetchone() == before
    # same rows at the same ctid: not one episode row was rewritten
    assert db.execute("SELECT ctid::text, * FROM devdiag_rollup.rollup_ttr_episode ORDER BY 2, 3, 4, 6").fetchall() == episodes
    assert mismatches(db) == {}
