-- Why: every view is security_invoker (the policy tests enforce it), so a
-- view shows a reader exactly what the tables' grants and policies let it read:
-- SELECT on the views adds nothing, and new views need no extra step. Views
-- named v_monitor_* read through owner-run functions and are for monitoring only;
-- a view without security_invoker gets no grant at all.
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN
        SELECT c.oid::regclass::text AS view_name
        FROM pg_catalog.pg_class AS c
        WHERE c.relnamespace = 'devdiag'::regnamespace AND c.relkind = 'v'
            AND c.relname NOT LIKE 'v\_monitor\_%'
            AND EXISTS (
                SELECT FROM pg_catalog.pg_options_to_table(c.reloptions) AS o
                WHERE o.option_name = 'security_invoker' AND lower(o.option_value) IN ('true', 'on', 'yes', '1')
            )
        ORDER BY 1
    LOOP
        -- The view name comes from the catalog, quoted by the regclass output.
        EXECUTE format('GRANT SELECT ON %s TO devdiag_reader, devdiag_analyst', v.view_name);
    END LOOP;
END;
$$;
