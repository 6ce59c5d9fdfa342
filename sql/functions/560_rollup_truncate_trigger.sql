-- Why: TRUNCATE has no transition tables, so what it removed cannot be
-- subtracted; the rollups are rebuilt from what is left instead.
CREATE OR REPLACE FUNCTION devdiag.rollup_truncate_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM devdiag.rollup_rebuild();
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_truncate_trigger() IS
'TRUNCATE trigger of diag_run, diag_run_archive and fix_outcome: rebuilds every rollup from the remaining rows.';
