-- Why: rollup_resolved_day is exact only if every change to rollup_episode_day
-- passes through its trigger (sql/functions/517). When one had to be attached
-- (580), the table is refilled from the episode days in the same transaction:
-- CREATE TRIGGER holds writers of the episode days back until commit, so no
-- episode lands unseen in between. (595, when it refills the episode days,
-- empties this table too; its insert fills it again through this trigger.)
DO $$
BEGIN
    IF devdiag.rollup_attach_statement_triggers(
        'devdiag.rollup_episode_day', 'resolved_day_after_', 'devdiag.rollup_resolved_day_trigger'
    ) THEN
        TRUNCATE devdiag.rollup_resolved_day;
        INSERT INTO devdiag.rollup_resolved_day (tenant, day, episodes, ttr_days_sum)
        SELECT d.tenant, d.end_day, sum(d.episodes), sum(d.episodes * (d.end_day - d.start_day))
        FROM devdiag.rollup_episode_day AS d
        WHERE d.end_day <> 'infinity'::date
        GROUP BY 1, 2;
    END IF;
END;
$$;
