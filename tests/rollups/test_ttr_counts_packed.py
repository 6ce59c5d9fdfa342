"""The TTR blocks' packed counts: one integer per row whose sums hold the element-wise sums of ttr_counts.

sql/queries/320 adds up a window's histograms as these integers and cuts the
sum's digits into buckets. The fold keeps the integer by adding packed
changes, so every stored row must hold exactly its array packed (checked
here against packing done in Python, after episodes were added, moved and
taken away), and sums of packed rows, cut as 320 cuts them, must give the
element-wise sums, also when a bucket's sum is past what one row holds.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import psycopg

from tests.rollups.test_rollups_window_queries import episode

BUCKETS = 128
DIGITS = 12
# 320's cut of a summed packed integer into its 128 bucket sums
CUT = """
    SELECT array_agg(m.d[1]::bigint ORDER BY m.k)
    FROM regexp_matches(lpad(%s::numeric::text, 1536, '0'), '.{12}', 'g') WITH ORDINALITY AS m (d, k)
"""


def packed(counts: list[int]) -> int:
    return sum(c * 10 ** (DIGITS * (BUCKETS - k)) for k, c in enumerate(counts, start=1))


def stored_rows_match_their_arrays(conn) -> int:
    rows = conn.execute("SELECT ttr_counts, ttr_counts_packed FROM devdiag_rollup.rollup_ttr_block").fetchall()
    bad = [(c, p) for c, p in rows if p != packed(c)]
    assert bad == [], f"{len(bad)} of {len(rows)} rows hold another packed integer than their counts'"
    return len(rows)


def test_the_fold_keeps_every_row_s_packed_counts_equal_to_its_array(pg, fresh_db):
    with psycopg.connect(pg.dsn(fresh_db), autocommit=True) as conn:
        fold_and_check(conn)


def fold_and_check(db) -> None:
    rng = random.Random(15)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    n = 0
    for _ in range(2):  # the second round lands in the blocks the first made: their rows are updated
        for _ in range(40):
            n += 1
            end = now - timedelta(days=rng.randint(0, 20), seconds=rng.randint(0, 86399))
            ttr = timedelta(seconds=rng.choice([5, 200, 4000, 90_000, 2_000_000]) * rng.randint(1, 3))
            episode(db, rng.choice(["acme", "globex"]), f"t{n}", rng.choice(["CSP", "XFO"]), end - ttr, end)
        db.execute("CALL devdiag.refresh_rollups()")
        assert stored_rows_match_their_arrays(db) > 0
    # late runs that clear the problems halfway through resolved episodes: the replay takes those episodes
    # out of their blocks (changes of -1) and puts shorter ones in
    db.execute("""
        INSERT INTO devdiag.diag_run (ts, tenant, target_hash, env_fp, problems, evidence, preset)
        SELECT e.started_at + (e.resolved_at - e.started_at) / 2, e.tenant, e.target_hash, 'env-late',
               '[]', '{}', 'full'
        FROM devdiag_rollup.rollup_ttr_episode AS e
        WHERE e.resolved_at IS NOT NULL AND e.resolved_at - e.started_at > interval '2 seconds'""")
    db.execute("CALL devdiag.refresh_rollups()")
    assert stored_rows_match_their_arrays(db) > 0


def test_sums_of_packed_rows_cut_into_buckets_give_the_element_wise_sums(db):
    rng = random.Random(320)
    rows = [[rng.choice([0, 0, 0, 1, 2, 40, 1_000_000, 2_147_483_647]) for _ in range(BUCKETS)] for _ in range(9)]
    total = sum(packed(r) for r in rows)
    got = db.execute(f"SELECT ({CUT % 'sum(p)'}) FROM unnest(%s::numeric[]) AS p",
                     ([packed(r) for r in rows],)).fetchone()[0]
    assert got == [sum(col) for col in zip(*rows)]
    assert max(got) > 2_147_483_647  # a bucket's sum beyond what one row's integer array holds
    assert db.execute(f"SELECT ({CUT % '%s'})", (total,)).fetchone()[0] == got
