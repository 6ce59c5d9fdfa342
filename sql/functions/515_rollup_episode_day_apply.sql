-- Why: rollup_episode_day counts the episodes of rollup_ttr_episode per
-- tenant, problem, first-seen day and first-zero day, and rollup_resolved_day
-- sums the resolved ones per tenant and first-zero day. The episode replay
-- (sql/functions/510) hands every episode row it removed (-1) or added (+1)
-- here in the same statement, so both stay exact whatever replays episodes (a
-- refresh, a purge, a rebuild). Most episode updates only move last_seen:
-- their -1 and +1 cancel and touch no row. A row goes when its counts reach
-- zero, as a count over the episodes would have no row there.
DROP FUNCTION IF EXISTS devdiag.rollup_episode_day_apply(text[], text[], date[], date[], integer[], boolean[]);

CREATE OR REPLACE FUNCTION devdiag.rollup_episode_day_apply(
    p_tenant text[],
    p_code text[],
    p_started timestamptz[],
    p_resolved timestamptz[],
    p_episode_no integer[],
    p_sign integer[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    z_tenant text[];
    z_code text[];
    z_start date[];
    z_end date[];
    z_day date[];
    z_episodes bigint[];
    z_ttr bigint[];
BEGIN
    WITH up AS (
        INSERT INTO devdiag_rollup.rollup_episode_day AS d (tenant, problem_code, start_day, end_day, episodes, recurrences)
        SELECT
            g.tenant, g.problem_code, devdiag.utc_day(g.started_at),
            coalesce(devdiag.utc_day(g.resolved_at), 'infinity'::date), sum(g.sign),
            coalesce(sum(g.sign) FILTER (WHERE g.episode_no > 1), 0)
        FROM unnest(p_tenant, p_code, p_started, p_resolved, p_episode_no, p_sign)
            AS g (tenant, problem_code, started_at, resolved_at, episode_no, sign)
        GROUP BY 1, 2, 3, 4
        HAVING sum(g.sign) <> 0 OR coalesce(sum(g.sign) FILTER (WHERE g.episode_no > 1), 0) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant, problem_code, start_day, end_day) DO UPDATE
        SET episodes = d.episodes + excluded.episodes,
            recurrences = d.recurrences + excluded.recurrences
        RETURNING d.tenant, d.problem_code, d.start_day, d.end_day, d.episodes, d.recurrences
    )
    SELECT array_agg(up.tenant), array_agg(up.problem_code), array_agg(up.start_day), array_agg(up.end_day)
    INTO z_tenant, z_code, z_start, z_end
    FROM up
    WHERE up.episodes = 0 AND up.recurrences = 0;
    IF z_tenant IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_episode_day AS d
        USING unnest(z_tenant, z_code, z_start, z_end) AS z (tenant, problem_code, start_day, end_day)
        WHERE d.tenant = z.tenant AND d.problem_code = z.problem_code AND d.start_day = z.start_day
            AND d.end_day = z.end_day AND d.episodes = 0 AND d.recurrences = 0;
    END IF;

    -- Resolved episodes per first-zero day, and the sum of their ttr_days.
    SELECT array_agg(r.tenant), array_agg(r.day), array_agg(r.episodes), array_agg(r.ttr)
    INTO z_tenant, z_day, z_episodes, z_ttr
    FROM (
        SELECT
            g.tenant, devdiag.utc_day(g.resolved_at) AS day, sum(g.sign) AS episodes,
            sum(g.sign * (devdiag.utc_day(g.resolved_at) - devdiag.utc_day(g.started_at))) AS ttr
        FROM unnest(p_tenant, p_started, p_resolved, p_sign) AS g (tenant, started_at, resolved_at, sign)
        WHERE g.resolved_at IS NOT NULL
        GROUP BY 1, 2
        HAVING sum(g.sign) <> 0 OR sum(g.sign * (devdiag.utc_day(g.resolved_at) - devdiag.utc_day(g.started_at))) <> 0
    ) AS r;
    IF z_tenant IS NOT NULL THEN
        PERFORM devdiag.rollup_add_per_tenant_day(
            'devdiag_rollup.rollup_resolved_day', '{episodes,ttr_days_sum}', z_tenant, z_day, z_episodes, z_ttr
        );
    END IF;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_episode_day_apply(text[], text[], timestamptz[], timestamptz[], integer[], integer[]) IS
'Moves rollup_episode_day and rollup_resolved_day by signed episode rows '
'(tenant, problem, started_at, resolved_at, episode_no, sign); drops the rows that reach zero.';
