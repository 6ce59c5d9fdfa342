-- A changed reject (new row, or different content or reason) counts as new.
INSERT INTO devdiag.sync_reject AS r (tenant, source_id, table_name, sqlite_id, raw_row, reason)
SELECT
    s.tenant,
    %(source)s AS source_id,
    s.table_name,
    s.sqlite_id,
    s.raw_row,
    s.reason
FROM pg_temp.sync_stage_reject AS s
ON CONFLICT ON CONSTRAINT sync_reject_pkey DO UPDATE
    SET raw_row = excluded.raw_row, reason = excluded.reason, rejected_at = now()
    WHERE (r.raw_row, r.reason) IS DISTINCT FROM (excluded.raw_row, excluded.reason)
RETURNING 1;
