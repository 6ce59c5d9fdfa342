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

INSERT INTO devdiag_rollup.rollup_registry AS r (name, position, source, fold, keeps)
VALUES ('fix_totals', 300, 'fix_outcome', 'devdiag.fold_fix_totals', 'rollup_fix_total')
ON CONFLICT (name) DO UPDATE
    SET position = excluded.position, source = excluded.source, fold = excluded.fold, keeps = excluded.keeps
    WHERE (r.position, r.source, r.fold, r.keeps) IS DISTINCT FROM (excluded.position, excluded.source, excluded.fold, excluded.keeps);
