-- Why: v_env_diversity reads one row per tenant and problem instead of
-- counting distinct environments over hundreds of thousands of rows.
-- depends: 0031_create_rollup_problem_env
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_problem_total (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    unique_environments bigint NOT NULL,
    total_runs bigint NOT NULL,
    CONSTRAINT rollup_problem_total_pkey PRIMARY KEY (tenant, problem_code)
);

COMMENT ON TABLE devdiag.rollup_problem_total IS
'Rollup behind v_env_diversity: distinct non-NULL environments and runs per tenant and problem code; maintained by triggers.';
