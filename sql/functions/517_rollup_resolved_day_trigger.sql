-- Why: rollup_resolved_day is the resolved rows of rollup_episode_day summed
-- per tenant and first-zero day. A statement-level trigger on
-- rollup_episode_day moves each day by what a statement took from its rows
-- (old rows) and gave them (new rows), so whatever writes the episode days
-- (their trigger on the episodes, a rebuild, a refill by make migrate) keeps
-- it exact in the same transaction. Open rows (end_day 'infinity') count
-- nothing. A day goes when both its sums are back to zero.
CREATE OR REPLACE FUNCTION devdiag.rollup_resolved_day_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    a_tenant text[];
    a_day date[];
    a_episodes bigint[];
    a_ttr bigint[];
BEGIN
    -- A transition table exists only for the events that have it, so each
    -- event reads its own; an UPDATE takes its old rows away and adds its new.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(x.tenant), array_agg(x.end_day), array_agg(x.episodes),
            array_agg(x.episodes * (x.end_day - x.start_day))
        INTO a_tenant, a_day, a_episodes, a_ttr
        FROM new_rows AS x
        WHERE x.end_day <> 'infinity'::date;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(x.tenant), array_agg(x.end_day), array_agg(-x.episodes),
            array_agg(-x.episodes * (x.end_day - x.start_day))
        INTO a_tenant, a_day, a_episodes, a_ttr
        FROM old_rows AS x
        WHERE x.end_day <> 'infinity'::date;
    ELSE
        SELECT array_agg(x.tenant), array_agg(x.end_day), array_agg(x.sign * x.episodes),
            array_agg(x.sign * x.episodes * (x.end_day - x.start_day))
        INTO a_tenant, a_day, a_episodes, a_ttr
        FROM (
            SELECT o.tenant, o.start_day, o.end_day, o.episodes, -1 AS sign FROM old_rows AS o
            UNION ALL
            SELECT n.tenant, n.start_day, n.end_day, n.episodes, 1 AS sign FROM new_rows AS n
        ) AS x
        WHERE x.end_day <> 'infinity'::date;
    END IF;
    IF a_tenant IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM devdiag.rollup_add_per_tenant_day('devdiag.rollup_resolved_day', '{episodes,ttr_days_sum}', a_tenant, a_day, a_episodes, a_ttr);
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_resolved_day_trigger() IS
'Statement trigger of rollup_episode_day (INSERT, UPDATE, DELETE): keeps rollup_resolved_day equal to its resolved rows '
'summed per tenant and first-zero day.';
