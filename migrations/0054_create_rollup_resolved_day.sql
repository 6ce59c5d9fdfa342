-- Why: sql/queries/340 sums the episodes resolved in the window, and their
-- ttr_days, per tenant: about 58,000 episode-day rows (tenant, problem,
-- first-seen day, first-zero day) at 10 million runs, 25 ms. Per tenant and
-- first-zero day that is 20 rows per day at 20 tenants; v_tenant_daily shows
-- them beside the day's runs. A trigger on rollup_episode_day keeps it
-- (sql/functions/517; 597 fills it when it attaches the trigger).
-- depends: 0053_drop_rollup_episode_day_end_idx
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_resolved_day (
    tenant text NOT NULL,
    day date NOT NULL,
    episodes bigint NOT NULL,
    ttr_days_sum bigint NOT NULL,
    CONSTRAINT rollup_resolved_day_pkey PRIMARY KEY (tenant, day)
);

-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX rollup_resolved_day_day_idx ON devdiag.rollup_resolved_day (day);

COMMENT ON TABLE devdiag.rollup_resolved_day IS
'Rollup behind v_tenant_daily.episodes_resolved: remediation episodes resolved per tenant and UTC day (first_zero_day) '
'and the sum of their ttr_days; kept by a trigger on rollup_episode_day.';
