-- Why: rollup_episode_day is exact only if every change to rollup_ttr_episode
-- passes through its trigger (sql/functions/515). The triggers are attached
-- only when missing or different, so a no-op migrate takes no lock on the
-- episodes. When one had to be attached, the table is refilled from the
-- stored episodes in the same transaction: CREATE TRIGGER holds writers of the
-- episodes back until commit, so no episode lands unseen in between.
DO $$
DECLARE
    t record;
    v_attached boolean := FALSE;
    v_path text := current_setting('search_path');
BEGIN
    PERFORM set_config('search_path', 'pg_catalog', TRUE);
    FOR t IN
        SELECT
            name,
            format('CREATE TRIGGER %I AFTER %s ON devdiag.rollup_ttr_episode %sFOR EACH STATEMENT '
                'EXECUTE FUNCTION devdiag.rollup_episode_day_trigger()',
                name, event,
                CASE event
                    WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows '
                    WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows '
                    ELSE 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                END) AS def
        FROM (VALUES ('INSERT'), ('UPDATE'), ('DELETE')) AS v (event)
        CROSS JOIN LATERAL (SELECT 'episode_day_after_' || lower(v.event) AS name) AS n
    LOOP
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_trigger AS g
            WHERE g.tgrelid = 'devdiag.rollup_ttr_episode'::regclass AND g.tgname = t.name
                AND pg_catalog.pg_get_triggerdef(g.oid) = t.def
        ) THEN
            -- The definition is built above from constants.
            EXECUTE replace(t.def, 'CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER');
            v_attached := TRUE;
        END IF;
    END LOOP;
    PERFORM set_config('search_path', v_path, TRUE);
    IF v_attached THEN
        TRUNCATE devdiag.rollup_episode_day;
        INSERT INTO devdiag.rollup_episode_day (tenant, problem_code, start_day, end_day, episodes, recurrences)
        SELECT
            e.tenant, e.problem_code, devdiag.utc_day(e.started_at),
            coalesce(devdiag.utc_day(e.resolved_at), 'infinity'::date),
            count(*), count(*) FILTER (WHERE e.episode_no > 1)
        FROM devdiag.rollup_ttr_episode AS e
        GROUP BY 1, 2, 3, 4;
    END IF;
END;
$$;
