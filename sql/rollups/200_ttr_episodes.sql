-- Why: an episode depends only on the runs of its own target, so a refresh
-- replays the episodes of the targets it touched from the earliest ts it
-- brought (devdiag.rollup_recompute_episodes, sql/functions): a fold of
-- targets, called once per refresh whatever the number of batches. The replay
-- reads the raw runs, so it is the same whether runs came in or left.
-- The episode rollups (statistics, histogram, per day, resolved per day) move
-- with the episodes the replay changes, in the same call.
DROP FUNCTION IF EXISTS devdiag.fold_ttr_episodes(text[], timestamptz[], text[], text[], jsonb[], integer[]);

CREATE OR REPLACE FUNCTION devdiag.fold_ttr_episodes(
    p_tenant text[],
    p_target text[],
    p_from timestamptz[],
    p_reports boolean[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT devdiag.rollup_recompute_episodes(p_tenant, p_target, p_from, p_reports);
$$;

COMMENT ON FUNCTION devdiag.fold_ttr_episodes(text[], text[], timestamptz[], boolean[]) IS
'Rollup fold ttr_episodes: replays the episodes of the given targets from the given ts on '
'(p_reports: whether a run of the target that came or went reports a problem).';

SELECT devdiag.rollup_register(
    'ttr_episodes', 200, 'run_targets', 'devdiag.fold_ttr_episodes',
    'rollup_ttr_episode, rollup_ttr_histogram, rollup_episode_stat, rollup_episode_day, rollup_resolved_day'
);
