CREATE TEMP TABLE IF NOT EXISTS sync_stage_fix (
    sqlite_id bigint NOT NULL,
    ts double precision NOT NULL,
    tenant text NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    confidence double precision NOT NULL,
    support bigint NOT NULL,
    env_fp text,
    notes text
) ON COMMIT DELETE ROWS;
