-- Why: v_tenant_health counts the raw runs of the partial hour at the start
-- of its 168-hour window. Bounds computed from now() in a view are not
-- constants when the query is planned, so the planner would plan every day
-- partition of diag_run and prune them only when the query runs: planning
-- then costs far more than the count. PL/pgSQL plans the count with the
-- bounds' values, and the planner keeps only the partitions they reach. One
-- grouped count serves every tenant of the view, so a query plans it once.
-- SECURITY INVOKER (the default): row-level security applies to the caller.
CREATE OR REPLACE FUNCTION devdiag.run_counts_by_tenant(
    p_after timestamptz,
    p_before timestamptz
)
RETURNS TABLE (tenant text, runs bigint)
LANGUAGE plpgsql
STABLE
ROWS 20
AS $$
BEGIN
    RETURN QUERY
    SELECT u.tenant, count(*)::bigint
    FROM (
        SELECT d.tenant FROM devdiag.diag_run AS d
        WHERE d.ts > p_after AND d.ts < p_before
        UNION ALL
        SELECT a.tenant FROM devdiag.diag_run_archive AS a
        WHERE a.ts > p_after AND a.ts < p_before
    ) AS u
    GROUP BY u.tenant;
END;
$$;

COMMENT ON FUNCTION devdiag.run_counts_by_tenant(timestamptz, timestamptz) IS
'Runs per tenant, live and archived, with p_after < ts < p_before (both bounds excluded), of the tenants the caller may read.';
