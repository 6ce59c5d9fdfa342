-- The UTC days of the batch's runs get their partitions before the runs
-- land, in the batch's transaction (a retention job cannot move a day in between).
SELECT devdiag.ensure_run_partitions(d.day, d.day) AS created
FROM (SELECT DISTINCT date_trunc('day', to_timestamp(s.ts), 'UTC') AS day FROM pg_temp.sync_stage_run AS s) AS d;
