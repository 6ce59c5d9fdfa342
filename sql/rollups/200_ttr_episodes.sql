-- Why: an episode depends only on the runs of its own target, so a batch
-- replays the episodes of the targets it touched from the earliest ts it
-- brought (devdiag.rollup_recompute_episodes, sql/functions). The replay reads
-- the raw runs, so it is the same whether runs came in or left (the sign).
-- The episode rollups (per day, resolved per day) follow the episodes through
-- their statement triggers.
CREATE OR REPLACE FUNCTION devdiag.fold_ttr_episodes(
    p_tenant text[],
    p_ts timestamptz[],
    p_target text[],
    p_env text[],
    p_problems jsonb[],
    p_sign integer[]
)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
SELECT devdiag.rollup_recompute_episodes(
    p_tenant, p_target, p_ts,
    (SELECT array_agg(jsonb_array_length(u.problems) > 0 ORDER BY u.i)
        FROM unnest(p_problems) WITH ORDINALITY AS u (problems, i))
);
$$;

COMMENT ON FUNCTION devdiag.fold_ttr_episodes(text[], timestamptz[], text[], text[], jsonb[], integer[]) IS
'Rollup fold ttr_episodes: replays the episodes of the targets of a batch of runs from its earliest ts.';

INSERT INTO devdiag.rollup_registry AS r (name, position, source, fold, keeps)
VALUES (
    'ttr_episodes', 200, 'runs', 'devdiag.fold_ttr_episodes',
    'rollup_ttr_episode, rollup_ttr_histogram, rollup_episode_stat, rollup_episode_day, rollup_resolved_day'
)
ON CONFLICT (name) DO UPDATE
    SET position = excluded.position, source = excluded.source, fold = excluded.fold, keeps = excluded.keeps
    WHERE (r.position, r.source, r.fold, r.keeps) IS DISTINCT FROM (excluded.position, excluded.source, excluded.fold, excluded.keeps);
