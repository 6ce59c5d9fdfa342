CREATE TEMP TABLE IF NOT EXISTS sync_stage_run (
    source_run_id bigint NOT NULL,
    ts double precision NOT NULL,
    tenant text NOT NULL,
    target_hash text NOT NULL,
    env_fp text,
    problems text NOT NULL,
    evidence text NOT NULL,
    preset text
) ON COMMIT DELETE ROWS;
