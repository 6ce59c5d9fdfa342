-- Why: a refresh splits across connections by tenant (refresh_rollups with
-- p_tenants, one set of tenants per connection), and the sets carry about
-- equal work only when the runs each tenant has to fold are known. This counts
-- them over the range the all-tenant refresh would read, with its per-tenant
-- skips. It reads the range once: worth it before a long refresh (a backfill),
-- not before every minute's. The owner's only: it names every tenant with
-- runs waiting, which a writer, who reads no run, must not learn.
CREATE OR REPLACE FUNCTION devdiag.rollup_pending_runs()
RETURNS TABLE (tenant text, runs bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$
SELECT r.tenant, count(*) AS runs
FROM devdiag.rollup_runs_between(
    (SELECT s.folded_through FROM devdiag_rollup.rollup_refresh_state AS s),
    (SELECT CASE WHEN q.is_called THEN q.last_value ELSE 0 END FROM devdiag.ingest_seq AS q),
    NULL
) AS r
GROUP BY r.tenant
ORDER BY 2 DESC, 1;
$$;

REVOKE ALL ON FUNCTION devdiag.rollup_pending_runs() FROM public;

COMMENT ON FUNCTION devdiag.rollup_pending_runs() IS
'Runs (written, changed or deleted) each tenant has to fold at the next refresh; reads the unfolded range once.';
