-- Why: v_problem_counts (the problem overview and the guide's top-10 and
-- alert queries) must not scan every run: runs per UTC day, tenant and code
-- are kept here by statement triggers on diag_run and diag_run_archive, equal
-- at every commit to the same count over the raw runs. No CHECK (runs >= 0)
-- on delta-maintained rollups: an upsert's proposed row is checked before its
-- conflict is found, so every decrement would be refused.
-- depends: 0029_validate_target_hash_checks
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_problem_day (
    tenant text NOT NULL,
    day date NOT NULL,
    problem_code text NOT NULL,
    runs bigint NOT NULL,
    CONSTRAINT rollup_problem_day_pkey PRIMARY KEY (tenant, day, problem_code)
);

COMMENT ON TABLE devdiag.rollup_problem_day IS
'Rollup behind v_problem_counts: runs (live and archived) per UTC day, tenant and problem code; maintained by triggers, never written by hand.';

-- Serves day-range filters over all tenants (top problems of 30 days, alerts of today).
-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX rollup_problem_day_day_idx ON devdiag.rollup_problem_day (day);
