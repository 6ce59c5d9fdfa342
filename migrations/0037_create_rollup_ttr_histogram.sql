-- Why: the time-to-remediation histogram (a tenant, a problem, episodes per
-- whole day) is answered from counts instead of counting episode rows.
-- depends: 0036_create_rollup_ttr_episode
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_ttr_histogram (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    -- squawk-ignore prefer-bigint-over-int -- a day count; v_ttr_days.ttr_days is integer by contract
    ttr_days integer NOT NULL,
    episodes bigint NOT NULL,
    CONSTRAINT rollup_ttr_histogram_pkey PRIMARY KEY (tenant, problem_code, ttr_days)
);

COMMENT ON TABLE devdiag.rollup_ttr_histogram IS
'Rollup behind v_ttr_histogram: resolved episodes per tenant, problem and ttr_days; maintained with rollup_ttr_episode.';
