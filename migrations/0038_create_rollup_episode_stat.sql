-- Why: tenant health needs, per tenant, the codes with an open episode and the
-- mean ttr_days; per-problem counts and sums give both from a few hundred rows.
-- depends: 0037_create_rollup_ttr_histogram
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_episode_stat (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    open_episodes bigint NOT NULL,
    resolved_episodes bigint NOT NULL,
    ttr_days_sum bigint NOT NULL,
    CONSTRAINT rollup_episode_stat_pkey PRIMARY KEY (tenant, problem_code)
);

COMMENT ON TABLE devdiag.rollup_episode_stat IS
'Rollup: open episodes, resolved episodes and the sum of their ttr_days per tenant and problem; maintained with rollup_ttr_episode.';
