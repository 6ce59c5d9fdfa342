-- Why: the scheduled maintenance job: partitions for the days ahead (so
-- direct writers land in their day), then archive and purge whole UTC days,
-- committing after every p_batch days so no lock is held for long, and a
-- refresh that takes the purged days out of the rollups. One
-- statement (CALL), as pg_cron wants; must be called outside a transaction block.
CREATE OR REPLACE PROCEDURE devdiag.run_retention(
    p_batch integer DEFAULT NULL,
    p_max_batches integer DEFAULT NULL
)
LANGUAGE plpgsql
-- No SET clause: a procedure with one cannot COMMIT; every name is qualified.
AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_batch integer := coalesce(p_batch, 1);
    v_cutoff timestamptz := now() - make_interval(days => (devdiag.setting('retention_days'))::integer);
    v_purge_days integer := (nullif(devdiag.setting('archive_purge_days'), 'null'::jsonb))::integer;
    v_ahead integer := coalesce((devdiag.setting('partition_days_ahead'))::integer, 7);
    v_archived bigint := 0;
    v_purged bigint := 0;
    v_batches integer := 0;
    v_folded bigint;
BEGIN
    IF v_batch < 1 THEN
        RAISE EXCEPTION 'run_retention: p_batch (days per transaction) must be at least 1, not %', v_batch
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM devdiag.ensure_run_partitions(now() - interval '1 day', now() + make_interval(days => v_ahead));
    COMMIT;
    LOOP
        -- Taken before the check reads the DEFAULT partition, so two jobs never wait on each other in turn.
        PERFORM devdiag.take_lock(7236113, 0);
        EXIT WHEN v_batches >= coalesce(p_max_batches, 2147483647) OR NOT (
            EXISTS (
                SELECT FROM devdiag.run_partition_days('devdiag.diag_run') AS d (day)
                WHERE d.day < (v_cutoff AT TIME ZONE 'UTC')::date
            )
            OR EXISTS (
                SELECT FROM devdiag_part.diag_run_default AS d
                WHERE d.ts < ((v_cutoff AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC'
            )
        );
        v_archived := v_archived + devdiag.archive_run_days(v_batch, v_cutoff);
        v_batches := v_batches + 1;
        COMMIT;
    END LOOP;
    v_batches := 0;
    IF v_purge_days IS NOT NULL THEN
        LOOP
            v_purged := v_purged + devdiag.purge_archive_days(v_batch, now() - make_interval(days => v_purge_days));
            v_batches := v_batches + 1;
            COMMIT;
            EXIT WHEN v_batches >= coalesce(p_max_batches, 2147483647) OR NOT EXISTS (
                SELECT FROM devdiag.run_partition_days('devdiag.diag_run_archive') AS d (day)
                WHERE d.day < ((now() - make_interval(days => v_purge_days)) AT TIME ZONE 'UTC')::date
            );
        END LOOP;
        IF v_purged > 0 THEN
            -- The days purged leave the rollups now, not at the next scheduled refresh.
            CALL devdiag.refresh_rollups(folded => v_folded);
            COMMIT;
        END IF;
    END IF;
    INSERT INTO devdiag.job_log (job, started_at, rows_archived, rows_purged)
    VALUES ('retention', v_started, v_archived, v_purged);
    COMMIT;
    RAISE NOTICE 'retention: archived % run(s), purged % run(s)', v_archived, v_purged;
END;
$$;

COMMENT ON PROCEDURE devdiag.run_retention(integer, integer) IS  -- noqa: LT01
'Maintenance job: partitions diag_run partition_days_ahead days ahead, archives whole UTC days past '
'retention_days, then purges archived days past archive_purge_days (if set); p_batch days per transaction; '
'logs to job_log. CALL it outside a transaction.';
