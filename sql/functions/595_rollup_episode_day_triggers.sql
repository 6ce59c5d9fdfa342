-- Why: rollup_episode_day is exact only if every change to rollup_ttr_episode
-- passes through its trigger (sql/functions/515). When one had to be attached
-- (580), the table is refilled from the stored episodes in the same
-- transaction: CREATE TRIGGER holds writers of the episodes back until
-- commit, so no episode lands unseen in between.
DO $$
BEGIN
    IF devdiag.rollup_attach_statement_triggers(
        'devdiag.rollup_ttr_episode', 'episode_day_after_', 'devdiag.rollup_episode_day_trigger'
    ) THEN
        -- TRUNCATE fires no row trigger: the resolved days kept from the
        -- episode days (517) start over with them, refilled by the insert
        TRUNCATE devdiag.rollup_episode_day, devdiag.rollup_resolved_day;
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
