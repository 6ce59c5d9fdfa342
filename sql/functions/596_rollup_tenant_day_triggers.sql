-- Why: rollup_tenant_day is exact only if every change to rollup_tenant_hour
-- passes through its trigger (sql/functions/516). When one had to be attached
-- (580), the table is refilled from the hourly counts in the same
-- transaction: CREATE TRIGGER holds writers of the hours back until commit,
-- so no run lands unseen in between.
DO $$
BEGIN
    IF devdiag.rollup_attach_statement_triggers(
        'devdiag.rollup_tenant_hour', 'tenant_day_after_', 'devdiag.rollup_tenant_day_trigger'
    ) THEN
        TRUNCATE devdiag.rollup_tenant_day;
        INSERT INTO devdiag.rollup_tenant_day (tenant, day, runs, problem_runs)
        SELECT h.tenant, devdiag.utc_day(h.hour), sum(h.runs), sum(h.problem_runs)
        FROM devdiag.rollup_tenant_hour AS h
        GROUP BY 1, 2;
    END IF;
END;
$$;
