-- Why: remediation episodes are a state machine over every run of a target;
-- computing them on each query took over a minute at 10 million runs. They
-- are kept here, recomputed by triggers only for the targets a statement
-- touched and only from its earliest affected run on.
-- depends: 0035_create_rollup_fix_total
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_ttr_episode (
    tenant text NOT NULL,
    target_hash text NOT NULL,
    problem_code text NOT NULL,
    preset text,
    started_at timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    resolved_at timestamptz,
    start_run_id bigint NOT NULL,
    end_run_id bigint,
    -- squawk-ignore prefer-bigint-over-int -- a day count; v_ttr_days.ttr_days is integer by contract
    ttr_days integer,
    CONSTRAINT rollup_ttr_episode_pkey PRIMARY KEY (tenant, target_hash, problem_code, started_at, start_run_id),
    CONSTRAINT rollup_ttr_episode_resolution_complete CHECK (
        (resolved_at IS NULL) = (end_run_id IS NULL) AND (resolved_at IS NULL) = (ttr_days IS NULL)
    )
);

COMMENT ON TABLE devdiag.rollup_ttr_episode IS
'Materialised remediation episodes (the rows of devdiag.ttr_episodes()), ttr_days = UTC days from start to resolution; maintained by triggers.';

-- Maintenance finds the episodes of a target still open at, or ending after, a time.
-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX rollup_ttr_episode_target_end_idx
ON devdiag.rollup_ttr_episode (tenant, target_hash, (coalesce(resolved_at, 'infinity')));
-- Serves v_open_problems.
-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX rollup_ttr_episode_open_idx
ON devdiag.rollup_ttr_episode (tenant, problem_code) WHERE resolved_at IS NULL;
-- Serves histograms over v_ttr_days by tenant and problem (index-only).
-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX rollup_ttr_episode_ttr_idx
ON devdiag.rollup_ttr_episode (tenant, problem_code, ttr_days) WHERE resolved_at IS NOT NULL;
