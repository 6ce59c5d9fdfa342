-- Why: each sql/rollups file names its fold in the registry with one call;
-- the row is written only when it changed, so a no-op migrate writes nothing.
CREATE OR REPLACE FUNCTION devdiag.rollup_register(
    p_name text,
    p_position integer,
    p_source text,
    p_fold regproc,
    p_keeps text
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
INSERT INTO devdiag_rollup.rollup_registry AS r (name, position, source, fold, keeps)
VALUES (p_name, p_position, p_source, p_fold::text, p_keeps)
ON CONFLICT (name) DO UPDATE
    SET position = excluded.position, source = excluded.source, fold = excluded.fold, keeps = excluded.keeps
    WHERE (r.position, r.source, r.fold, r.keeps) IS DISTINCT FROM (excluded.position, excluded.source, excluded.fold, excluded.keeps);
$$;

COMMENT ON FUNCTION devdiag.rollup_register(text, integer, text, regproc, text) IS
'Names a rollup fold in devdiag_rollup.rollup_registry: its position, source (runs, run_targets or fix_outcome), '
'function and the tables it keeps.';
