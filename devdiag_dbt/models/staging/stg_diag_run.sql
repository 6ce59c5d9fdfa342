-- Every run ingested and not purged, live or archived (archiving never changes
-- an analytics result), with its UTC day: a plain date_trunc('day', ts)
-- followed the session TimeZone, which is wrong for a timestamptz.
SELECT
    r.id AS run_id,
    r.ts,
    (r.ts AT TIME ZONE 'UTC')::date AS day,
    r.tenant,
    r.target_hash,
    r.env_fp,
    r.problems,
    r.preset,
    FALSE AS archived
FROM {{ source('devdiag', 'diag_run') }} AS r
UNION ALL
SELECT
    a.id AS run_id,
    a.ts,
    (a.ts AT TIME ZONE 'UTC')::date AS day,
    a.tenant,
    a.target_hash,
    a.env_fp,
    a.problems,
    a.preset,
    TRUE AS archived
FROM {{ source('devdiag', 'diag_run_archive') }} AS a
