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

-- Why: splitting a long refresh into sets of tenants of about equal work needs
-- the runs per tenant only roughly, and the exact count reads the whole
-- unfolded range (after a backfill, every run) once more before the folds read
-- it again. A sample of diag_run's pages gives the split without that read;
-- when the sample holds too few of the range's runs to go by (a short range,
-- cheap to count), the exact count answers instead. Runs in the archive and
-- changed runs are left to the exact count: a backfill writes neither. Each
-- day partition draws its own random pages (no fixed seed: with one seed every
-- partition would draw the same page numbers, and small days none at all).
CREATE OR REPLACE FUNCTION devdiag.rollup_pending_estimate(
    p_sample_percent real DEFAULT 1,
    p_min_sampled bigint DEFAULT 1000
)
RETURNS TABLE (tenant text, runs bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    v_lo bigint;
    v_hi bigint;
BEGIN
    IF p_sample_percent IS NULL OR p_sample_percent <= 0 OR p_sample_percent > 100 THEN
        RAISE EXCEPTION 'rollup_pending_estimate: p_sample_percent must be above 0 and at most 100, not %',
            coalesce(p_sample_percent::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s.folded_through INTO v_lo FROM devdiag_rollup.rollup_refresh_state AS s;
    SELECT CASE WHEN q.is_called THEN q.last_value ELSE 0 END INTO v_hi FROM devdiag.ingest_seq AS q;
    RETURN QUERY
    WITH sampled AS (
        SELECT d.tenant, count(*) AS n
        FROM devdiag.diag_run AS d TABLESAMPLE SYSTEM (p_sample_percent)
        LEFT JOIN devdiag_rollup.rollup_tenant_watermark AS w ON d.tenant = w.tenant
        WHERE d.ingest_id > greatest(v_lo, w.folded_through) AND d.ingest_id <= v_hi
        GROUP BY d.tenant
    )
    SELECT s.tenant, round(s.n * 100 / p_sample_percent)::bigint
    FROM sampled AS s
    WHERE (SELECT sum(x.n) FROM sampled AS x) >= coalesce(p_min_sampled, 0)
    ORDER BY 2 DESC, 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT p.tenant, p.runs FROM devdiag.rollup_pending_runs() AS p;
    END IF;
END;
$$;

REVOKE ALL ON FUNCTION devdiag.rollup_pending_estimate(real, bigint) FROM public;

COMMENT ON FUNCTION devdiag.rollup_pending_estimate(real, bigint) IS
'Runs each tenant has to fold, estimated from a sample of diag_run''s pages (p_sample_percent); the exact '
'rollup_pending_runs() when the sample holds fewer than p_min_sampled of them.';
