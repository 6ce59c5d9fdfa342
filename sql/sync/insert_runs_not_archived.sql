-- Same, for a source re-read below its high water: runs archived since they
-- landed must not come back into diag_run. The archive's key includes ts (it
-- is partitioned by day), so the probe reads only the run's day.
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
WHERE
    s.source_run_id BETWEEN %(lo)s AND %(hi)s
    AND NOT EXISTS (
        SELECT 1 FROM devdiag.diag_run_archive AS a
        WHERE
            a.tenant = s.tenant AND a.source_id = %(source)s AND a.source_run_id = s.source_run_id
            AND a.ts = to_timestamp(s.ts)
    )
ORDER BY s.source_run_id
ON CONFLICT ON CONSTRAINT diag_run_source_identity_unique DO NOTHING;
