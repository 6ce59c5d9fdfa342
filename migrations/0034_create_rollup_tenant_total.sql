-- Why: the fix success rate divides by every run of a tenant that reported a
-- problem, over all time; one row per tenant answers it without a scan.
-- depends: 0033_create_rollup_tenant_hour
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_tenant_total (
    tenant text NOT NULL,
    runs bigint NOT NULL,
    problem_runs bigint NOT NULL,
    CONSTRAINT rollup_tenant_total_pkey PRIMARY KEY (tenant)
);

COMMENT ON TABLE devdiag.rollup_tenant_total IS
'Rollup: all runs (live and archived) and runs that reported a problem, per tenant; maintained by triggers.';
