-- Why: the count rollups move by exactly the runs folded in (+1) or taken
-- out by a purge (-1); devdiag.rollup_count_runs (sql/functions) does all
-- five in one pass over the batch.
CREATE OR REPLACE FUNCTION devdiag.fold_run_counts(
    p_tenant text[],
    p_ts timestamptz[],
    p_target text[],
    p_env text[],
    p_problems jsonb[],
    p_sign integer[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT devdiag.rollup_count_runs(p_tenant, p_ts, p_env, p_problems, p_sign);
$$;

COMMENT ON FUNCTION devdiag.fold_run_counts(text[], timestamptz[], text[], text[], jsonb[], integer[]) IS
'Rollup fold run_counts: adds a batch of runs (sign 1) to, or takes them (sign -1) out of, the count rollups.';

SELECT devdiag.rollup_register(
    'run_counts', 100, 'runs', 'devdiag.fold_run_counts',
    'rollup_tenant_hour, rollup_tenant_total, rollup_problem_day, rollup_problem_env, rollup_problem_total'
);
