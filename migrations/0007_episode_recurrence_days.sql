-- Why: the recurrence query (sql/queries/350) counts, per problem, the
-- distinct targets whose episodes began in a window. Read from the episodes
-- it touches every episode of the window. An episode is its target's first
-- in the window exactly when the target's previous episode of the problem
-- began before the window, so each episode keeps when that previous one
-- began (prev_started_at), and rollup_recurrence_day counts the episodes
-- per tenant, problem and start day by how many days before them their
-- previous one began: a window then reads one row per tenant, problem and
-- day. prev_started_at is filled here from the episodes' own order (the
-- order episode_no counts in); the new rollup is filled from the episodes
-- when sql/ is applied next (sql/rollups/200_ttr_episodes.sql).
-- The index is built on the table this step creates, empty; since_previous
-- holds counts of one tenant, problem and day, so 32 bits suffice and the
-- rows a window reads stay half as wide.
-- squawk-ignore-file require-concurrent-index-creation, prefer-bigint-over-int
SET lock_timeout = '5s';
SET statement_timeout = '0';

ALTER TABLE devdiag_rollup.rollup_ttr_episode ADD COLUMN prev_started_at timestamptz;

COMMENT ON COLUMN devdiag_rollup.rollup_ttr_episode.prev_started_at IS
'started_at of the previous episode of this problem on this target (episode_no - 1); NULL for the first.';

UPDATE devdiag_rollup.rollup_ttr_episode AS e
SET prev_started_at = p.prev_started_at
FROM (
    SELECT
        x.tenant,
        x.target_hash,
        x.problem_code,
        x.started_at,
        x.start_run_id,
        lag(x.started_at) OVER (
            PARTITION BY x.tenant, x.target_hash, x.problem_code ORDER BY x.started_at, x.start_run_id
        ) AS prev_started_at
    FROM devdiag_rollup.rollup_ttr_episode AS x
) AS p
WHERE
    e.tenant = p.tenant AND e.target_hash = p.target_hash AND e.problem_code = p.problem_code
    AND e.started_at = p.started_at AND e.start_run_id = p.start_run_id
    AND p.prev_started_at IS NOT NULL;

CREATE TABLE devdiag_rollup.rollup_recurrence_day (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    start_day date NOT NULL,
    episodes bigint NOT NULL,
    recurrences bigint NOT NULL,
    since_previous integer[] NOT NULL,
    CONSTRAINT rollup_recurrence_day_pkey PRIMARY KEY (tenant, problem_code, start_day)
);

CREATE INDEX rollup_recurrence_day_day_idx ON devdiag_rollup.rollup_recurrence_day USING btree (start_day);

COMMENT ON TABLE devdiag_rollup.rollup_recurrence_day IS
'Rollup behind v_recurrence_days: remediation episodes per tenant, problem and UTC start day; since_previous[k] '
'counts those whose previous episode of the problem on the target began k or more UTC days before '
'(or that have none), for k = 1 .. 92.';
