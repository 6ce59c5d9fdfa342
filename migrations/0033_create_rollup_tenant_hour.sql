-- Why: tenant health counts runs of the last 168 hours; whole UTC hours come
-- from here and only the part of the oldest hour inside the window is counted
-- from the raw runs, so the window stays exact to the microsecond.
-- depends: 0032_create_rollup_problem_total
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_tenant_hour (
    tenant text NOT NULL,
    hour timestamptz NOT NULL,
    runs bigint NOT NULL,
    problem_runs bigint NOT NULL,
    CONSTRAINT rollup_tenant_hour_pkey PRIMARY KEY (tenant, hour)
);

COMMENT ON TABLE devdiag.rollup_tenant_hour IS
'Rollup: runs (live and archived) and runs that reported a problem, per tenant and UTC hour (hour = start of the hour); maintained by triggers.';
