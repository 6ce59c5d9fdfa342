-- Why: the analysts' window queries (sql/queries/330 and 340) counted every
-- remediation episode open at the window's end or resolved in it: about
-- 50,000 and 180,000 episode rows at 10 million runs (141 ms and 274 ms).
-- Episodes counted per tenant, problem, first-seen day and first-zero day
-- answer both exactly, because the window's bounds are whole UTC days: an
-- episode is open at the window's end when it started on or before its last
-- day and ended after it, and its ttr_days is the difference of the two days.
-- end_day is 'infinity' while the episode is open, so the key needs no NULL;
-- v_episode_days shows it as a NULL first_zero_day, and the index is on that
-- expression. A trigger on rollup_ttr_episode keeps it (sql/functions/515;
-- 595 fills it when it attaches the trigger). No CHECK on the counts: the
-- episode replay updates, deletes and inserts episodes in one statement and
-- the trigger of each of those runs on its own, so a count may pass below
-- zero before the statement ends.
-- depends: 0047_drop_diag_run_archive_tenant_target_ts_idx
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.rollup_episode_day (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    start_day date NOT NULL,
    end_day date NOT NULL,
    episodes bigint NOT NULL,
    recurrences bigint NOT NULL,
    CONSTRAINT rollup_episode_day_pkey PRIMARY KEY (tenant, problem_code, start_day, end_day),
    CONSTRAINT rollup_episode_day_order CHECK (end_day >= start_day)
);

-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX rollup_episode_day_end_idx
ON devdiag.rollup_episode_day ((nullif(end_day, 'infinity'::date)), start_day);

COMMENT ON TABLE devdiag.rollup_episode_day IS
'Rollup behind v_episode_days: remediation episodes per tenant, problem, first-seen day and first-zero day '
'(end_day ''infinity'' while open); kept by a trigger on rollup_ttr_episode.';
