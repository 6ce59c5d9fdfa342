-- Why: every change to diag_run or diag_run_archive (ingest, late or re-sent
-- runs, deletes, archive moves, purges) reaches the rollups in the same
-- statement, so they equal a computation over the raw runs at every commit and
-- a run is visible in every view as soon as it is. One statement-level call
-- per statement reads the transition tables, so the cost is per batch, not
-- per row. It runs as the owner: rollups cover every tenant whoever writes.
--
-- Counts move by +1 for every row added and -1 for every row removed, in either
-- table (the views count both). Episodes are replayed only for runs whose
-- content (ts, target, preset, problems) enters or leaves the set of runs:
-- a row whose identical copy sits in the other table changes nothing. An
-- archive move in one statement (DELETE ... RETURNING feeding INSERT INTO the
-- archive) fires the DELETE trigger first, when the rows are already in the
-- archive; it leaves the moved keys' fingerprint in devdiag.rollup_moved for
-- the very next call, the archive INSERT, which then knows those rows came from
-- live and replays nothing. Every call clears the note first, so it never
-- outlives the statement that left it. Any session may set that setting, a
-- writer too; it is consulted only when rows enter the archive, which only the
-- owner and its retention functions may do, so a forged note cannot make the
-- rollups skip a writer's runs (tests/rollups/test_rollups_move_note.py).
--
-- The retention job moves whole days by DETACH and ATTACH PARTITION, which
-- fire no trigger (sql/jobs/100_archive_run_day.sql); this note serves moves
-- made by hand with DELETE ... RETURNING feeding an INSERT.
CREATE OR REPLACE FUNCTION devdiag.rollup_runs_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    v_live boolean := TG_TABLE_NAME = 'diag_run';
    v_note text := coalesce(current_setting('devdiag.rollup_moved', TRUE), '');
    v_moved text;
    c_tenant text[];
    c_ts timestamptz[];
    c_env text[];
    c_problems jsonb[];
    c_sign integer[];
    e_tenant text[];
    e_target text[];
    e_ts timestamptz[];
    e_reports boolean[];
    e_fp text;
BEGIN
    IF v_note <> '' THEN
        PERFORM set_config('devdiag.rollup_moved', '', TRUE);
    END IF;
    -- One writer per tenant at a time until commit, taken before any rollup row
    -- is touched (in one order), so concurrent writers wait instead of deadlocking
    -- and each reads what the previous one committed.
    IF TG_OP = 'INSERT' THEN
        PERFORM devdiag.take_lock(7236111, l.k)
        FROM (SELECT DISTINCT hashtext(x.tenant) AS k FROM new_rows AS x ORDER BY 1) AS l;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM devdiag.take_lock(7236111, l.k)
        FROM (SELECT DISTINCT hashtext(x.tenant) AS k FROM old_rows AS x ORDER BY 1) AS l;
    ELSE
        PERFORM devdiag.take_lock(7236111, l.k)
        FROM (
            SELECT hashtext(x.tenant) AS k FROM new_rows AS x
            UNION
            SELECT hashtext(x.tenant) FROM old_rows AS x
            ORDER BY 1
        ) AS l;
    END IF;

    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.tenant), array_agg(n.ts), array_agg(n.env_fp), array_agg(n.problems), array_agg(1)
        INTO c_tenant, c_ts, c_env, c_problems, c_sign
        FROM new_rows AS n;
        -- Runs that were not in the set yet (no identical copy in the other table).
        WITH mx AS MATERIALIZED (
            -- ids above the other table's highest id of the tenant cannot be there (no probe)
            SELECT
                t.tenant,
                CASE WHEN v_live THEN (SELECT max(o.id) FROM devdiag.diag_run_archive AS o WHERE o.tenant = t.tenant)
                    ELSE (SELECT max(o.id) FROM devdiag.diag_run AS o WHERE o.tenant = t.tenant) END AS max_id
            FROM (SELECT DISTINCT x.tenant FROM new_rows AS x) AS t
        )
        SELECT array_agg(n.tenant), array_agg(n.target_hash), array_agg(n.ts),
            array_agg(jsonb_array_length(n.problems) > 0),
            CASE WHEN NOT v_live AND v_note <> '' THEN
                count(*)::text || ':' || md5(string_agg(format('%L/%s', n.tenant, n.id), ',' ORDER BY n.tenant, n.id))
            END
        INTO e_tenant, e_target, e_ts, e_reports, e_fp
        FROM new_rows AS n
        INNER JOIN mx ON n.tenant = mx.tenant
        WHERE mx.max_id IS NULL OR n.id > mx.max_id OR NOT (
            (v_live AND EXISTS (
                SELECT FROM devdiag.diag_run_archive AS o
                WHERE o.tenant = n.tenant AND o.id = n.id
                    AND (o.ts, o.target_hash, o.preset, o.problems) IS NOT DISTINCT FROM (n.ts, n.target_hash, n.preset, n.problems)
            ))
            OR (NOT v_live AND EXISTS (
                SELECT FROM devdiag.diag_run AS o
                WHERE o.tenant = n.tenant AND o.id = n.id
                    AND (o.ts, o.target_hash, o.preset, o.problems) IS NOT DISTINCT FROM (n.ts, n.target_hash, n.preset, n.problems)
            ))
        );
        IF e_fp IS NOT NULL AND e_fp = v_note THEN
            -- exactly the rows the preceding DELETE took out of live: a move
            e_tenant := NULL;
        END IF;

    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.tenant), array_agg(o.ts), array_agg(o.env_fp), array_agg(o.problems), array_agg(-1)
        INTO c_tenant, c_ts, c_env, c_problems, c_sign
        FROM old_rows AS o;
        WITH x AS MATERIALIZED (
            SELECT
                o.tenant, o.id, o.target_hash, o.ts, jsonb_array_length(o.problems) > 0 AS reports,
                CASE WHEN v_live THEN EXISTS (
                    SELECT FROM devdiag.diag_run_archive AS k
                    WHERE k.tenant = o.tenant AND k.id = o.id
                        AND (k.ts, k.target_hash, k.preset, k.problems) IS NOT DISTINCT FROM (o.ts, o.target_hash, o.preset, o.problems)
                ) ELSE EXISTS (
                    SELECT FROM devdiag.diag_run AS k
                    WHERE k.tenant = o.tenant AND k.id = o.id
                        AND (k.ts, k.target_hash, k.preset, k.problems) IS NOT DISTINCT FROM (o.ts, o.target_hash, o.preset, o.problems)
                ) END AS kept
            FROM old_rows AS o
        )
        SELECT
            array_agg(x.tenant) FILTER (WHERE NOT x.kept),
            array_agg(x.target_hash) FILTER (WHERE NOT x.kept),
            array_agg(x.ts) FILTER (WHERE NOT x.kept),
            array_agg(x.reports) FILTER (WHERE NOT x.kept),
            CASE WHEN v_live AND bool_or(x.kept) THEN
                count(*) FILTER (WHERE x.kept)::text || ':'
                || md5(string_agg(format('%L/%s', x.tenant, x.id), ',' ORDER BY x.tenant, x.id) FILTER (WHERE x.kept))
            END
        INTO e_tenant, e_target, e_ts, e_reports, v_moved
        FROM x;

    ELSE  -- UPDATE: the old version leaves, the new one enters
        SELECT array_agg(u.tenant), array_agg(u.ts), array_agg(u.env_fp), array_agg(u.problems), array_agg(u.sign)
        INTO c_tenant, c_ts, c_env, c_problems, c_sign
        FROM (
            SELECT n.tenant, n.ts, n.env_fp, n.problems, 1 AS sign FROM new_rows AS n
            UNION ALL
            SELECT o.tenant, o.ts, o.env_fp, o.problems, -1 FROM old_rows AS o
        ) AS u;
        WITH changed AS (
            (
                SELECT n.tenant, n.id, n.ts, n.target_hash, n.preset, n.problems FROM new_rows AS n
                EXCEPT
                SELECT o.tenant, o.id, o.ts, o.target_hash, o.preset, o.problems FROM old_rows AS o
            )
            UNION
            (
                SELECT o.tenant, o.id, o.ts, o.target_hash, o.preset, o.problems FROM old_rows AS o
                EXCEPT
                SELECT n.tenant, n.id, n.ts, n.target_hash, n.preset, n.problems FROM new_rows AS n
            )
        )
        SELECT array_agg(c.tenant), array_agg(c.target_hash), array_agg(c.ts),
            array_agg(jsonb_array_length(c.problems) > 0)
        INTO e_tenant, e_target, e_ts, e_reports
        FROM changed AS c;
    END IF;

    PERFORM devdiag.rollup_count_runs(c_tenant, c_ts, c_env, c_problems, c_sign);
    PERFORM devdiag.rollup_recompute_episodes(e_tenant, e_target, e_ts, e_reports);
    IF v_moved IS NOT NULL THEN
        PERFORM set_config('devdiag.rollup_moved', v_moved, TRUE);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_runs_trigger() IS
'Statement trigger of diag_run and diag_run_archive: applies the statement''s rows to the count rollups '
'and replays the episodes of the targets whose runs changed.';
