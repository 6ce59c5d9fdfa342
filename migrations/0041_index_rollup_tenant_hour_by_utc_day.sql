-- Why: v_tenant_daily groups the hourly rollup by UTC day, so a window filter
-- on its day column reached the table as a filter on the expression, and
-- every hour of every tenant was scanned (61 ms at 10 million runs for
-- sql/queries/300, 10 ms with this index). The expression is devdiag.utc_day()
-- as the planner inlines it (that function is created after the migrations).
-- Built CONCURRENTLY so writers' rollup upkeep is never blocked; if the build
-- fails, yoyo runs the rollback, which drops the invalid index it leaves.
-- transactional: false
-- depends: 0033_create_rollup_tenant_hour 0040_add_retention_settings_and_job_log
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY IF NOT EXISTS rollup_tenant_hour_day_idx
ON devdiag.rollup_tenant_hour (((hour AT TIME ZONE 'UTC')::date));
