-- Why: undo the UTC-day index of the hourly rollup without blocking writers.
-- transactional: false
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '0';
DROP INDEX CONCURRENTLY IF EXISTS devdiag.rollup_tenant_hour_day_idx;
