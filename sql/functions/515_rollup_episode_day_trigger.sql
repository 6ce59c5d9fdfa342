-- Why: rollup_episode_day counts the episodes of rollup_ttr_episode per
-- tenant, problem, first-seen day and first-zero day. A statement-level
-- trigger on the episode table moves those counts by -1 for every episode row
-- a statement removed or changed and +1 for every row it added or changed, so
-- whatever writes the episodes (the replay of sql/functions/510, a rebuild,
-- an older replay still running while make migrate installs this one) keeps
-- it exact in the same transaction. Most episode updates only move last_seen:
-- their -1 and +1 cancel and touch no row. It runs as the owner, as the
-- replay does. The replay updates, deletes and inserts in one statement and
-- each of those fires this trigger on its own, so a count may be negative in
-- between; a row goes only when both its counts are back to zero.
-- The trigger passes episode rows as they are stored; the day pair is derived
-- in the apply function. 595's one-off refill derives it again as one GROUP BY
-- (4.7 s at 10 million runs against 7.4 s through this function, while writers
-- wait); the upgrade test compares that refill with the reference.
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
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    z_tenant text[];
    z_code text[];
    z_start date[];
    z_end date[];
BEGIN
    WITH up AS (
        INSERT INTO devdiag.rollup_episode_day AS d (tenant, problem_code, start_day, end_day, episodes, recurrences)
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
        DELETE FROM devdiag.rollup_episode_day AS d
        USING unnest(z_tenant, z_code, z_start, z_end) AS z (tenant, problem_code, start_day, end_day)
        WHERE d.tenant = z.tenant AND d.problem_code = z.problem_code AND d.start_day = z.start_day
            AND d.end_day = z.end_day AND d.episodes = 0 AND d.recurrences = 0;
    END IF;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_episode_day_apply(text[], text[], timestamptz[], timestamptz[], integer[], integer[]) IS
'Moves rollup_episode_day by signed episode rows (tenant, problem, started_at, resolved_at, episode_no, sign); '
'drops the rows that reach zero.';

CREATE OR REPLACE FUNCTION devdiag.rollup_episode_day_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    a_tenant text[];
    a_code text[];
    a_started timestamptz[];
    a_resolved timestamptz[];
    a_no integer[];
    a_sign integer[];
BEGIN
    -- A transition table exists only for the events that have it, so each
    -- event reads its own; an UPDATE gives its old rows -1 and new rows +1.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(x.tenant), array_agg(x.problem_code), array_agg(x.started_at), array_agg(x.resolved_at),
            array_agg(x.episode_no), array_agg(1)
        INTO a_tenant, a_code, a_started, a_resolved, a_no, a_sign
        FROM new_rows AS x;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(x.tenant), array_agg(x.problem_code), array_agg(x.started_at), array_agg(x.resolved_at),
            array_agg(x.episode_no), array_agg(-1)
        INTO a_tenant, a_code, a_started, a_resolved, a_no, a_sign
        FROM old_rows AS x;
    ELSE
        SELECT array_agg(x.tenant), array_agg(x.problem_code), array_agg(x.started_at), array_agg(x.resolved_at),
            array_agg(x.episode_no), array_agg(x.sign)
        INTO a_tenant, a_code, a_started, a_resolved, a_no, a_sign
        FROM (
            SELECT o.tenant, o.problem_code, o.started_at, o.resolved_at, o.episode_no, -1 AS sign FROM old_rows AS o
            UNION ALL
            SELECT n.tenant, n.problem_code, n.started_at, n.resolved_at, n.episode_no, 1 FROM new_rows AS n
        ) AS x;
    END IF;
    IF a_tenant IS NOT NULL THEN
        PERFORM devdiag.rollup_episode_day_apply(a_tenant, a_code, a_started, a_resolved, a_no, a_sign);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_episode_day_trigger() IS
'Statement trigger of rollup_ttr_episode (INSERT, UPDATE, DELETE): keeps rollup_episode_day equal to a count of its rows.';
