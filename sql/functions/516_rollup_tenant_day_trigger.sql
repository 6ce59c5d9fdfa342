-- Why: rollup_tenant_day is the hourly tenant counts summed per UTC day. A
-- statement-level trigger on rollup_tenant_hour moves each day by what a
-- statement took from its hours (old rows) and gave them (new rows), so
-- whatever writes the hourly counts (the run triggers, a rebuild, an older
-- trigger body still running while make migrate installs this one) keeps the
-- days exact in the same transaction. A statement touches a handful of hours,
-- so this is a few rows per ingest batch. A day goes when both its counts are
-- back to zero, as a count over the raw runs would have no row there.
CREATE OR REPLACE FUNCTION devdiag.rollup_tenant_day_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    a_tenant text[];
    a_day date[];
    a_runs bigint[];
    a_problem_runs bigint[];
BEGIN
    -- A transition table exists only for the events that have it, so each
    -- event reads its own; an UPDATE takes its old rows away and adds its new.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(x.tenant), array_agg(devdiag.utc_day(x.hour)), array_agg(x.runs), array_agg(x.problem_runs)
        INTO a_tenant, a_day, a_runs, a_problem_runs
        FROM new_rows AS x;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(x.tenant), array_agg(devdiag.utc_day(x.hour)), array_agg(-x.runs), array_agg(-x.problem_runs)
        INTO a_tenant, a_day, a_runs, a_problem_runs
        FROM old_rows AS x;
    ELSE
        SELECT array_agg(x.tenant), array_agg(devdiag.utc_day(x.hour)), array_agg(x.runs), array_agg(x.problem_runs)
        INTO a_tenant, a_day, a_runs, a_problem_runs
        FROM (
            SELECT o.tenant, o.hour, -o.runs AS runs, -o.problem_runs AS problem_runs FROM old_rows AS o
            UNION ALL
            SELECT n.tenant, n.hour, n.runs, n.problem_runs FROM new_rows AS n
        ) AS x;
    END IF;
    IF a_tenant IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM devdiag.rollup_add_per_tenant_day(
        'devdiag.rollup_tenant_day', '{runs,problem_runs}', a_tenant, a_day, a_runs, a_problem_runs
    );
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_tenant_day_trigger() IS
'Statement trigger of rollup_tenant_hour (INSERT, UPDATE, DELETE): keeps rollup_tenant_day equal to its hours summed per UTC day.';
