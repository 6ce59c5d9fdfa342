SELECT
    s.tenant,
    row_to_json(s)::text AS raw_row
FROM pg_temp.sync_stage_run AS s
WHERE s.source_run_id = %(id)s;
