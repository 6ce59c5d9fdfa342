-- Why: v_fix_success, the ranking and the best-fixes query read one row per
-- tenant, problem and fix instead of summing every environment's outcome.
-- depends: 0034_create_rollup_tenant_total
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_fix_total (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    successes bigint NOT NULL,
    confidence_sum double precision NOT NULL,
    environments bigint NOT NULL,
    last_success timestamptz NOT NULL,
    CONSTRAINT rollup_fix_total_pkey PRIMARY KEY (tenant, problem_code, fix_code),
    CONSTRAINT rollup_fix_total_environments_positive CHECK (environments > 0)
);

COMMENT ON TABLE devdiag.rollup_fix_total IS
'Rollup behind v_fix_success: per tenant, problem and fix the sum of support, the sum of confidence, the number of fix_outcome rows and the latest ts; '
'each touched group is recomputed from fix_outcome by triggers.';
