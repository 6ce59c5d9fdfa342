-- Why: the scheduled retention job: archive then purge, committing after
-- every batch so no lock on the live table is held for long. One statement
-- (CALL), as pg_cron wants; must be called outside a transaction block.
CREATE OR REPLACE PROCEDURE devdiag.run_retention(
    p_batch integer DEFAULT NULL,
    p_max_batches integer DEFAULT NULL
)
LANGUAGE plpgsql
-- No SET clause: a procedure with one cannot COMMIT; every name is qualified.
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_archived bigint := 0;
    v_purged bigint := 0;
    v_batches integer := 0;
    n integer;
BEGIN
    LOOP
        n := devdiag.archive_runs_batch(p_batch);
        v_archived := v_archived + n;
        v_batches := v_batches + 1;
        COMMIT;
        EXIT WHEN n = 0 OR v_batches >= coalesce(p_max_batches, 2147483647);
    END LOOP;
    v_batches := 0;
    LOOP
        n := devdiag.purge_archive_batch(p_batch);
        v_purged := v_purged + n;
        v_batches := v_batches + 1;
        COMMIT;
        EXIT WHEN n = 0 OR v_batches >= coalesce(p_max_batches, 2147483647);
    END LOOP;
    INSERT INTO devdiag.job_log (job, started_at, rows_archived, rows_purged)
    VALUES ('retention', v_started, v_archived, v_purged);
    COMMIT;
    RAISE NOTICE 'retention: archived % run(s), purged % run(s)', v_archived, v_purged;
END;
$$;

COMMENT ON PROCEDURE devdiag.run_retention(integer, integer) IS  -- noqa: LT01
'Retention job: archive runs past retention_days, then purge the archive past archive_purge_days (if set); logs to job_log. CALL it outside a transaction.';
