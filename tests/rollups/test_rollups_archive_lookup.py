"""A late run older than the newest archived run is folded by replaying its target from the archive by index.

The archive's rows are found for the episode replay through the
``(tenant, target_hash, ts, id)`` index of each day partition. This test
archives a few thousand runs of many targets (ten whole days), then lands a late run
inside the archived period and refreshes the rollups: neither finding the new
run nor the replay may reach the archive without a
sequential scan or a walk over the tenant's whole archive (either would grow
with the archive, which is years of history): the refresh reads the target's own
archived runs only. Every view must still equal its raw-data reference.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import psycopg

from tests.rollups.rollup_support import mismatches

TENANT = "acme"
TARGETS = [hashlib.sha256(f"archive-lookup/{i}".encode()).hexdigest() for i in range(400)]


def test_a_late_run_in_the_archived_period_reads_the_archive_by_index(pg, fresh_db):
    # a UTC midnight: day d holds the runs of day d only, and ten whole days move
    start = (datetime.now(timezone.utc) - timedelta(days=60)).replace(hour=0, minute=0, second=0, microsecond=0)
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        # 400 targets x 12 runs over 12 days, every third run reporting a problem
        owner.execute(
            """INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
               SELECT %s::timestamptz + make_interval(days => d, hours => t %% 24),
                      %s, (%s::text[])[t + 1],
                      CASE WHEN (d + t) %% 3 = 0 THEN '["csp_missing"]' ELSE '[]' END::jsonb, 'full'
               FROM generate_series(0, 11) AS d, generate_series(0, 399) AS t""",
            (start, TENANT, TARGETS),
        )
        owner.execute("CALL devdiag.refresh_rollups()")
        owner.commit()
    with psycopg.connect(pg.superuser_dsn(fresh_db), autocommit=True) as su:
        su.execute("SET ROLE devdiag")
        moved = su.execute("SELECT devdiag.archive_run_days(10000, %s)", (start + timedelta(days=10),)).fetchone()[0]
        assert moved == 4000
        su.execute("ANALYZE devdiag.diag_run_archive")
    with psycopg.connect(pg.dsn(fresh_db)) as owner:
        owner.execute("SET TimeZone = 'UTC'")
        # late: inside the archived days of target 7, reporting the problem it had resolved
        owner.execute(
            "INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset) "
            "VALUES (%s, %s, %s, '[\"csp_missing\"]', 'full')",
            (start + timedelta(days=4, hours=7, minutes=30), TENANT, TARGETS[7]),
        )
        # A day partition here is a few pages, where the planner rightly prefers a sequential
        # scan; at warehouse size the ingest index is the cheaper path, which is what is measured.
        owner.execute("SET LOCAL enable_seqscan = off")
        owner.execute("CALL devdiag.refresh_rollups()")
        seq, read = owner.execute(
            "SELECT sum(seq_tup_read), sum(seq_tup_read + coalesce(idx_tup_fetch, 0)) FROM pg_stat_xact_user_tables "
            "WHERE schemaname = 'devdiag_part' AND relname LIKE 'diag\\_run\\_archive\\_%'"
        ).fetchone()
        owner.commit()
        # the target's own archived runs (10) and the probe of the newest one, not the 4,000
        assert seq == 0, "the replay scanned the whole archive for one late run"
        assert 1 <= read <= 40, f"the replay read {read} archived runs for one late run of one target"
        assert mismatches(owner) == {}
