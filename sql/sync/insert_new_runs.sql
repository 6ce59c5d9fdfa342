-- The common case: a batch entirely above the source's high water was never
-- sent before (its row of sync_run_lock keeps other syncs of the source out), so a
-- plain INSERT is enough, and cheaper per row than ON CONFLICT. Ids
-- follow SQLite's order.
INSERT INTO devdiag.diag_run
(ts, tenant, target_hash, env_fp, problems, evidence, preset, source_id, source_run_id)
SELECT
    to_timestamp(s.ts) AS ts,
    s.tenant,
    s.target_hash,
    s.env_fp,
    s.problems::jsonb AS problems,
    s.evidence::jsonb AS evidence,
    s.preset,
    %(source)s AS source_id,
    s.source_run_id
FROM pg_temp.sync_stage_run AS s
WHERE s.source_run_id BETWEEN %(lo)s AND %(hi)s
ORDER BY s.source_run_id;
