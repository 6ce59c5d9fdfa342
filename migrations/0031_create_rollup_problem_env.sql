-- Why: environment diversity needs to know when the last run of a problem in
-- an environment goes away (archive purge, delete), so runs are counted per
-- tenant, code and environment fingerprint. Runs without a fingerprint are
-- not an environment (count(DISTINCT) skips NULL) and are not kept here.
-- depends: 0030_create_rollup_problem_day
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_problem_env (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    env_fp text NOT NULL,
    runs bigint NOT NULL,
    CONSTRAINT rollup_problem_env_pkey PRIMARY KEY (tenant, problem_code, env_fp)
);

COMMENT ON TABLE devdiag.rollup_problem_env IS
'Rollup: runs (live and archived) per tenant, problem code and non-NULL environment fingerprint; maintained by triggers.';
