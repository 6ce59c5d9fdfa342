"""devdiag.monitor_ops (the Prometheus query devdiag_ops) reads rollups only, and after a refresh it says
what the raw tables say: open episodes, the support-weighted fix confidence, the week's median time to
remediation."""

from __future__ import annotations

import psycopg
import pytest

RAW = """
    SELECT
        (SELECT count(*) FROM devdiag_rollup.rollup_ttr_episode WHERE resolved_at IS NULL),
        (SELECT count(DISTINCT problem_code) FROM devdiag_rollup.rollup_ttr_episode WHERE resolved_at IS NULL),
        (SELECT min(started_at) FROM devdiag_rollup.rollup_ttr_episode WHERE resolved_at IS NULL),
        (SELECT sum(confidence * greatest(support, 1)) / nullif(sum(greatest(support, 1)), 0)
         FROM devdiag.fix_outcome),
        (SELECT count(*) FROM devdiag.fix_outcome),
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(EPOCH FROM resolved_at - started_at) / 3600)
         FROM devdiag_rollup.rollup_ttr_episode WHERE resolved_at >= now() - interval '7 days'),
        (SELECT count(*) FROM devdiag_rollup.rollup_ttr_episode WHERE resolved_at >= now() - interval '7 days')
"""
OPS = """SELECT open_episodes, open_problem_codes, oldest_open_started_at, fix_confidence_avg, fix_outcomes,
                ttr_median_hours_7d, ttr_resolved_7d FROM devdiag.monitor_ops()"""


def same(ops, raw) -> None:
    assert ops[:3] == raw[:3] and ops[4] == raw[4] and ops[6] == raw[6]
    for a, b in ((ops[3], raw[3]), (ops[5], raw[5])):
        assert (a is None and b is None) or a == pytest.approx(float(b), rel=1e-12)


def test_the_ops_summary_equals_the_raw_tables_after_every_refresh(pg, fresh_db):
    with psycopg.connect(pg.dsn(fresh_db)) as conn:
        # Two tenants; problems that open, resolve after a few hours and stay open.
        conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                        SELECT now() - make_interval(hours => 100 - i), t, md5(t || (i % 3)::text),
                               CASE WHEN i % 5 < 2 THEN '[]' WHEN i % 7 = 0 THEN '["CSP", "CORS"]'
                                    ELSE '["CSP"]' END::jsonb,
                               (ARRAY['full', 'app', 'embed'])[1 + i % 3]
                        FROM generate_series(1, 90) AS i, unnest(ARRAY['acme', 'globex']) AS t""")
        conn.execute("""INSERT INTO devdiag.fix_outcome (tenant, problem_code, fix_code, confidence, support, env_fp)
                        VALUES ('acme', 'CSP', 'add-header', 0.8, 3, 'e1'), ('acme', 'CSP', 'add-header', 0.5, 0, 'e2'),
                               ('globex', 'CORS', 'allow-origin', 0.25, 7, 'e1')""")
        conn.execute("CALL devdiag.refresh_rollups()")
        first = conn.execute(OPS).fetchone()
        same(first, conn.execute(RAW).fetchone())
        assert first[0] > 0 and first[4] == 3 and first[6] > 0
        # Fixes change (weights and confidence), go and come; a problem resolves.
        conn.execute("UPDATE devdiag.fix_outcome SET support = 0, confidence = 0.9 WHERE env_fp = 'e1' AND tenant = 'acme'")
        conn.execute("DELETE FROM devdiag.fix_outcome WHERE tenant = 'globex'")
        conn.execute("""INSERT INTO devdiag.fix_outcome (tenant, problem_code, fix_code, confidence, support, env_fp)
                        VALUES ('globex', 'CSP', 'nonce', 0.6, 2, 'e9')""")
        conn.execute("""INSERT INTO devdiag.diag_run (ts, tenant, target_hash, problems, preset)
                        SELECT now() - interval '1 minute', 'acme', md5('acme' || g::text), '[]', 'full'
                        FROM generate_series(0, 2) AS g""")
        conn.execute("CALL devdiag.refresh_rollups()")
        second = conn.execute(OPS).fetchone()
        same(second, conn.execute(RAW).fetchone())
        assert second != first and second[4] == 3
        conn.execute("SELECT devdiag.rollup_rebuild()")
        assert conn.execute(OPS).fetchone() == second
        # Nothing left: no fix confidence, no open episode.
        conn.execute("DELETE FROM devdiag.fix_outcome")
        conn.execute("DELETE FROM devdiag.diag_run")
        conn.execute("CALL devdiag.refresh_rollups()")
        third = conn.execute(OPS).fetchone()
        same(third, conn.execute(RAW).fetchone())
        assert third[0] == 0 and third[3] is None and third[4] == 0


def test_the_ops_summary_reads_no_raw_table(db):
    """A scrape must not grow with the warehouse: the function reads no run or fix outcome table."""
    body = db.execute("SELECT prosrc FROM pg_proc WHERE oid = 'devdiag.monitor_ops()'::regprocedure").fetchone()[0]
    assert "rollup_fix_total" in body and "rollup_episode_stat" in body
    assert "fix_outcome" not in body and "diag_run" not in body
