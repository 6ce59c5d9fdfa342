-- Why: runs per tenant and UTC day (v_tenant_daily, read by the window
-- queries 300 and 340 and by Tableau's tenant-health-over-a-window sheet)
-- were summed from the hourly rollup: 24 rows per tenant and day, about
-- 14,000 rows for a 30-day window, 10 to 15 ms of every such query. A daily
-- rollup holds 20 rows per day at 20 tenants. A trigger on rollup_tenant_hour
-- keeps it (sql/functions/516; 596 fills it when it attaches the trigger), so
-- whatever writes the hourly counts moves the daily ones in the same
-- transaction.
-- depends: 0049_index_rollup_ttr_episode_problem_started_at
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_tenant_day (
    tenant text NOT NULL,
    day date NOT NULL,
    runs bigint NOT NULL,
    problem_runs bigint NOT NULL,
    CONSTRAINT rollup_tenant_day_pkey PRIMARY KEY (tenant, day)
);

-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX rollup_tenant_day_day_idx ON devdiag.rollup_tenant_day (day);

COMMENT ON TABLE devdiag.rollup_tenant_day IS
'Rollup behind v_tenant_daily: runs (live and archived) and runs that reported a problem, per tenant and UTC day; '
'kept by a trigger on rollup_tenant_hour.';
