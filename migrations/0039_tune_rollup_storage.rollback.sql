-- Why: back to the default page fill of the rollup tables.
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER TABLE devdiag.rollup_problem_day RESET (fillfactor);
ALTER TABLE devdiag.rollup_problem_env RESET (fillfactor);
ALTER TABLE devdiag.rollup_problem_total RESET (fillfactor);
ALTER TABLE devdiag.rollup_tenant_hour RESET (fillfactor);
ALTER TABLE devdiag.rollup_tenant_total RESET (fillfactor);
ALTER TABLE devdiag.rollup_ttr_episode RESET (fillfactor);
ALTER TABLE devdiag.rollup_ttr_histogram RESET (fillfactor);
ALTER TABLE devdiag.rollup_episode_stat RESET (fillfactor);
