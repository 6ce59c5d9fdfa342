CREATE TEMP TABLE IF NOT EXISTS sync_stage_reject (
    tenant text NOT NULL,
    table_name text NOT NULL,
    sqlite_id bigint NOT NULL,
    raw_row text NOT NULL,
    reason text NOT NULL
) ON COMMIT DELETE ROWS;
