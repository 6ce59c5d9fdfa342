-- Why: direct writers land in their day's partition from the first migrate
-- on, before the maintenance job has run; a no-op (no lock) once the days exist.
SELECT devdiag.ensure_run_partitions(
    now() - interval '1 day',
    now() + make_interval(days => coalesce((devdiag.setting('partition_days_ahead'))::integer, 7))
);
