-- One pair per (tenant, problem, fix, env_fp): SQLite treats NULL env_fp as
-- distinct, the warehouse does not, so such duplicates are merged here.
CREATE TEMP TABLE sync_stage_pair ON COMMIT DROP AS
SELECT
    row_number() OVER (ORDER BY min(f.sqlite_id)) AS pair_no,
    f.tenant,
    f.problem_code,
    f.fix_code,
    f.env_fp,
    sum(f.support)::bigint AS support,
    (array_agg(f.confidence ORDER BY f.sqlite_id DESC))[1] AS confidence,
    (array_agg(f.notes ORDER BY f.sqlite_id DESC))[1] AS notes,
    min(f.ts) AS first_ts,
    max(f.sqlite_id) AS sqlite_id,
    array_agg(f.sqlite_id ORDER BY f.sqlite_id) AS sqlite_ids
FROM pg_temp.sync_stage_fix AS f
GROUP BY f.tenant, f.problem_code, f.fix_code, f.env_fp;
