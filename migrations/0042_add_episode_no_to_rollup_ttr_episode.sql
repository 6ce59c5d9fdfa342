-- Why: v_problem_episodes numbered each episode by counting the earlier
-- episodes of its target and problem on every read; over a 30-day window at
-- 10 million runs that count ran for 220,000 episodes (sql/queries/350: 3.5 s,
-- 330: 0.8 s). The number is kept here instead, maintained by the episode
-- replay (sql/functions/510), and backfilled now from the stored episodes.
-- The check is NOT VALID so adding it takes no long lock, yet it already
-- refuses new rows without a number: a writer still running the previous
-- replay function until this make migrate finishes gets an error and its
-- sync retries, instead of leaving an unnumbered episode. The next step
-- validates it.
-- depends: 0041_index_rollup_tenant_hour_by_utc_day
SET lock_timeout = '5s';
-- the backfill reads and rewrites every episode once
SET statement_timeout = '0';

-- squawk-ignore prefer-bigint-over-int -- an ordinal per target and problem; v_problem_episodes.episode_no is integer by contract
ALTER TABLE devdiag.rollup_ttr_episode ADD COLUMN episode_no integer;

UPDATE devdiag.rollup_ttr_episode AS e
SET episode_no = n.episode_no
FROM (
    SELECT
        x.tenant,
        x.target_hash,
        x.problem_code,
        x.started_at,
        x.start_run_id,
        row_number() OVER (
            PARTITION BY x.tenant, x.target_hash, x.problem_code
            ORDER BY x.started_at, x.start_run_id
        ) AS episode_no
    FROM devdiag.rollup_ttr_episode AS x
) AS n
WHERE
    e.tenant = n.tenant AND e.target_hash = n.target_hash AND e.problem_code = n.problem_code
    AND e.started_at = n.started_at AND e.start_run_id = n.start_run_id;

ALTER TABLE devdiag.rollup_ttr_episode
ADD CONSTRAINT rollup_ttr_episode_episode_no_set CHECK (episode_no IS NOT NULL AND episode_no >= 1) NOT VALID;

COMMENT ON COLUMN devdiag.rollup_ttr_episode.episode_no IS
'1 for the first episode of this problem on this target, 2 for the next, ... (by started_at, start_run_id).';
