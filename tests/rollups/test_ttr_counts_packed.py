"""The TTR blocks' packed counts: one integer per row whose sums hold the element-wise sums of ttr_counts.

sql/queries/320 adds up a window's histograms as these integers and cuts the
sum's digits into buckets. These tests check the packing against arithmetic
done in Python, the sums of many rows (the largest counts an integer column
holds included), the signed rows a fold proposes, and the refusal of a NULL
element.
"""

from __future__ import annotations

import random

import pytest
from psycopg import errors

BUCKETS = 128
DIGITS = 12


def packed(counts: list[int]) -> int:
    n = len(counts)
    return sum(c * 10 ** (DIGITS * (n - k)) for k, c in enumerate(counts, start=1))


def unpack(value: int) -> list[int]:
    digits = str(value).rjust(DIGITS * BUCKETS, "0")
    return [int(digits[i:i + DIGITS]) for i in range(0, DIGITS * BUCKETS, DIGITS)]


def test_packing_lays_out_twelve_digits_per_element_the_first_most_significant(db):
    rng = random.Random(9)
    arrays = [[0] * BUCKETS, [2_147_483_647] * BUCKETS, [rng.choice([0, 0, 1, 7, 2_147_483_647]) for _ in range(BUCKETS)],
              [1] + [0] * (BUCKETS - 1), [0] * (BUCKETS - 1) + [1]]
    for counts in arrays:
        got = db.execute("SELECT devdiag.ttr_counts_packed(%s::integer[])", (counts,)).fetchone()[0]
        assert got == packed(counts)
        assert unpack(int(got)) == counts


def test_a_fold_s_signed_changes_pack_to_the_same_integer_arithmetic_gives(db):
    """INSERT ... ON CONFLICT computes the proposed row's generated column before it finds the conflict: a
    row of changes (some negative) must pack, and to the number that adds to the stored row's."""
    stored = [5, 0, 3] + [0] * (BUCKETS - 3)
    change = [-5, 2, -1] + [0] * (BUCKETS - 3)
    got = db.execute("SELECT devdiag.ttr_counts_packed(%s::integer[]), devdiag.ttr_counts_packed(%s::integer[])",
                     (stored, change)).fetchone()
    assert got[1] == packed(change)
    assert unpack(int(got[0] + got[1])) == [a + b for a, b in zip(stored, change)]


def test_a_null_element_is_refused_not_packed_as_zero(db):
    for counts in ("ARRAY[1, NULL, 3]", "ARRAY[-1, NULL, 3]"):
        with pytest.raises(errors.InvalidTextRepresentation, match="NULL"), db.transaction():
            db.execute(f"SELECT devdiag.ttr_counts_packed({counts})")


def test_sums_of_stored_rows_cut_into_buckets_give_the_element_wise_sums(db):
    """Rows as the fold writes them (an insert, then updates that move counts down and up); the column follows
    every write, and sum() over the rows, cut as 320 cuts it, equals sum(ttr_counts[k]) for every k."""
    rng = random.Random(320)
    for tenant in range(7):
        counts = [rng.choice([0, 0, 0, 1, 2, 40, 1_000_000, 2_147_483_647]) for _ in range(BUCKETS)]
        db.execute("INSERT INTO devdiag_rollup.rollup_ttr_block (tenant, problem_code, block_days, block_start, "
                   "episodes, ttr_days_sum, ttr_counts) VALUES (%s, 'P', 1, DATE '2026-01-01', 1, 0, %s)",
                   (f"t{tenant}", counts))
        for _ in range(5):
            down = [-min(c, rng.randint(0, 3)) for c in counts]
            up = [rng.randint(0, 2) if c < 2_000_000_000 else 0 for c in counts]
            for change in (down, up):
                db.execute("UPDATE devdiag_rollup.rollup_ttr_block SET ttr_counts = ("
                           " SELECT array_agg(x.a + x.b ORDER BY x.k)"
                           " FROM unnest(ttr_counts, %s::integer[]) WITH ORDINALITY AS x (a, b, k))"
                           " WHERE tenant = %s AND problem_code = 'P'", (change, f"t{tenant}"))
                counts = [c + d for c, d in zip(counts, change)]
    got = db.execute("""
        SELECT (SELECT array_agg(m.d[1]::bigint ORDER BY m.k)
                FROM regexp_matches(lpad(sum(b.ttr_counts_packed)::text, 1536, '0'), '.{12}', 'g')
                     WITH ORDINALITY AS m (d, k)),
               ARRAY(SELECT (SELECT sum(c.ttr_counts[k.k]) FROM devdiag_rollup.rollup_ttr_block AS c
                             WHERE c.problem_code = 'P')::bigint
                     FROM generate_series(1, 128) AS k (k) ORDER BY k.k)
        FROM devdiag_rollup.rollup_ttr_block AS b WHERE b.problem_code = 'P'""").fetchone()
    assert got[0] == got[1]
    assert max(got[0]) > 2_147_483_647  # a bucket's sum beyond what one row holds
    each = db.execute("SELECT ttr_counts, ttr_counts_packed FROM devdiag_rollup.rollup_ttr_block "
                      "WHERE problem_code = 'P'").fetchall()
    assert len(each) == 7
    assert all(p == packed(c) for c, p in each)
