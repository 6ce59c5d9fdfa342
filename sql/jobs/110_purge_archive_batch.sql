-- Why: an optional hard limit on history; off unless archive_purge_days is set.
CREATE OR REPLACE FUNCTION devdiag.purge_archive_batch(
    p_limit integer DEFAULT NULL,
    p_cutoff timestamptz DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_limit integer := coalesce(p_limit, (devdiag.setting('retention_batch_size'))::integer, 10000);
    v_days integer := (nullif(devdiag.setting('archive_purge_days'), 'null'::jsonb))::integer;
    v_cutoff timestamptz := coalesce(p_cutoff, now() - make_interval(days => v_days));
    n integer;
BEGIN
    IF v_cutoff IS NULL THEN
        RETURN 0;  -- purge is off
    END IF;
    WITH picked AS (
        SELECT a.tenant, a.id
        FROM devdiag.diag_run_archive AS a
        WHERE a.ts < v_cutoff
        ORDER BY a.ts
        LIMIT v_limit
        FOR UPDATE SKIP LOCKED
    )
    DELETE FROM devdiag.diag_run_archive AS a
    USING picked AS p
    WHERE a.tenant = p.tenant AND a.id = p.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    -- Fix outcomes age by their last credit (ts), not their first.
    IF n < v_limit THEN
        DELETE FROM devdiag.fix_outcome AS f WHERE f.ts < v_cutoff;
    END IF;
    RETURN n;
END;
$$;

COMMENT ON FUNCTION devdiag.purge_archive_batch(integer, timestamptz) IS
'Deletes up to p_limit archived runs older than archive_purge_days (or p_cutoff), and fix outcomes '
'last credited before it once the runs are done; 0 when purge is off.';
