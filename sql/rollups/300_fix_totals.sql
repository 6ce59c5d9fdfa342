-- Why: a fix group (tenant, problem, fix) is recomputed from fix_outcome
-- whenever one of its rows was written (devdiag.rollup_recompute_fix_totals,
-- sql/functions), so upserts that overwrite confidence or move ts stay exact.
CREATE OR REPLACE FUNCTION devdiag.fold_fix_totals(
    p_tenant text[],
    p_problem text[],
    p_fix text[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT devdiag.rollup_recompute_fix_totals(p_tenant, p_problem, p_fix);
$$;

COMMENT ON FUNCTION devdiag.fold_fix_totals(text[], text[], text[]) IS
'Rollup fold fix_totals: recomputes rollup_fix_total for the (tenant, problem, fix) groups written.';

SELECT devdiag.rollup_register(
    'fix_totals', 300, 'fix_outcome', 'devdiag.fold_fix_totals', 'rollup_fix_total'
);
