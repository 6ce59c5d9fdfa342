-- Why: the raw-data form of devdiag.tenant_health_window, for tests/rollups and
-- make bench (which read it in place of the function, as they read each
-- devdiag.v_x view as devdiag_ref.v_ref_x). It is made from the function's own
-- definition with those views swapped, so the two cannot drift apart. Those
-- views come later, with sql/views/: the body is checked when first used.
DO $$
DECLARE
    def text := pg_get_functiondef('devdiag.tenant_health_window(date, date)'::regprocedure);
    checks text := current_setting('check_function_bodies');
BEGIN
    def := regexp_replace(def, '^CREATE OR REPLACE FUNCTION devdiag\.', 'CREATE OR REPLACE FUNCTION devdiag_ref.');
    def := regexp_replace(def, '\mdevdiag\.v_(\w+)', 'devdiag_ref.v_ref_\1', 'g');
    PERFORM set_config('check_function_bodies', 'off', TRUE);
    EXECUTE def;
    PERFORM set_config('check_function_bodies', checks, TRUE);
    EXECUTE format(
        'COMMENT ON FUNCTION devdiag_ref.tenant_health_window(date, date) IS %L',
        'Reference computed from the raw runs (slow; for tests and make bench): '
        || obj_description('devdiag.tenant_health_window(date, date)'::regprocedure, 'pg_proc')
    );
END;
$$;
