-- Why: analytics describe every run ingested and not purged, live or
-- archived, so archiving never changes a result.
CREATE OR REPLACE VIEW devdiag.v_run_all
WITH (security_invoker = TRUE)
AS
SELECT
    d.id,
    d.ts,
    d.tenant,
    d.target_hash,
    d.env_fp,
    d.problems,
    d.evidence,
    d.preset,
    FALSE AS archived
FROM devdiag.diag_run AS d
UNION ALL
SELECT
    a.id,
    a.ts,
    a.tenant,
    a.target_hash,
    a.env_fp,
    a.problems,
    a.evidence,
    a.preset,
    TRUE AS archived
FROM devdiag.diag_run_archive AS a;

COMMENT ON VIEW devdiag.v_run_all IS
'Every run, live (diag_run) and archived (diag_run_archive); archived tells which.';
