-- The UTC days of the next batch get their partitions in a transaction of
-- their own, while no refresh of the sync reads the run tables: attaching a
-- partition waits for every reader of the DEFAULT partition.
SELECT count(devdiag.ensure_run_partitions(d.day, d.day)) AS created
FROM unnest(%(days)s::date[]) AS d (day);
