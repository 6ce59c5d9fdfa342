-- Why: an episode depends only on the runs of its own target, so a refresh
-- replays the episodes of the targets it touched from the earliest ts it
-- brought (devdiag.rollup_recompute_episodes, sql/functions): a fold of
-- targets, called once per refresh whatever the number of batches. The replay
-- reads the raw runs, so it is the same whether runs came in or left.
-- The episode rollups (per day, resolved per day) follow the episodes through
-- their statement triggers.
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

INSERT INTO devdiag_rollup.rollup_registry AS r (name, position, source, fold, keeps)
VALUES (
    'ttr_episodes', 200, 'run_targets', 'devdiag.fold_ttr_episodes',
    'rollup_ttr_episode, rollup_ttr_histogram, rollup_episode_stat, rollup_episode_day, rollup_resolved_day'
)
ON CONFLICT (name) DO UPDATE
    SET position = excluded.position, source = excluded.source, fold = excluded.fold, keeps = excluded.keeps
    WHERE (r.position, r.source, r.fold, r.keeps) IS DISTINCT FROM (excluded.position, excluded.source, excluded.fold, excluded.keeps);
