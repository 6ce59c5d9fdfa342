-- Why: the rollups are folded from the runs and fix outcomes written since the
-- last refresh, in one set-based pass per batch, instead of by triggers on
-- every insert: ingest pays nothing for them, and a refresh of one tenant reads
-- and writes only that tenant's rows (on a distributed warehouse it routes to
-- one shard).
--
-- The watermark is an ingest id (devdiag.ingest_seq). Ids are drawn while a
-- writer's transaction is open, so a committed id may lie above one still in
-- flight. The safe point waits for every writer in flight to finish (an
-- EXCLUSIVE lock on the written tables, taken in a subtransaction and released
-- at once), then reads the sequence: every id at or below it belongs to a
-- transaction that has ended, so folding up to it never skips a row that
-- commits later. When writers hold their tables longer than p_lock_wait the
-- refresh folds nothing this time and says so (NULL); the next one catches up.
CREATE OR REPLACE FUNCTION devdiag.rollup_safe_point(p_lock_wait interval)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hi bigint;
BEGIN
    BEGIN
        PERFORM set_config('lock_timeout', greatest(1, (extract(EPOCH FROM p_lock_wait) * 1000)::bigint)::text, TRUE);
        LOCK TABLE devdiag.diag_run, devdiag.diag_run_archive, devdiag.fix_outcome IN EXCLUSIVE MODE;
        SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO v_hi FROM devdiag.ingest_seq AS s;
        -- Undo the subtransaction: the lock (and the timeout) go, the value stays.
        RAISE EXCEPTION 'release' USING ERRCODE = 'DD001';
    EXCEPTION
        WHEN SQLSTATE 'DD001' THEN
            RETURN v_hi;
        WHEN lock_not_available THEN
            RETURN NULL;
    END;
END;
$$;

REVOKE ALL ON FUNCTION devdiag.rollup_safe_point(interval) FROM public;

COMMENT ON FUNCTION devdiag.rollup_safe_point(interval) IS
'The highest ingest id below which no writer is still in flight (waits at most p_lock_wait; NULL when writers held on).';

-- Why: one generic refresh walks the registry (sql/rollups) in position order.
-- Folds of runs get every batch of runs (bounded by p_batch ingest ids, so a
-- backfill of millions of runs folds in pieces of bounded memory); folds of
-- targets get each target the range touched once, with its earliest ts.
-- The all-tenant refresh locks every tenant it will fold (in one order) and
-- skips, per tenant, what a refresh of that tenant alone already folded. It
-- also takes the archive days purged since (devdiag_rollup.rollup_purged_day)
-- out of the rollups and drops them, before it moves the watermark. A refresh
-- of one tenant (p_tenant) or of a set of tenants (p_tenants) takes their runs
-- out of those days first (and deletes them from the day kept aside): no
-- episode of theirs is replayed from runs that are gone, and the all-tenant
-- refresh does not take them out again. It moves each of its tenants'
-- watermarks, so refreshes of disjoint sets run side by side, each on a
-- connection of its own (the sync folds its last runs that way), and the
-- all-tenant refresh after them only moves its watermark over their runs.
DROP FUNCTION IF EXISTS devdiag.refresh_rollups(text, interval, bigint);
DROP PROCEDURE IF EXISTS devdiag.refresh_rollups(text, interval, bigint, bigint);

CREATE OR REPLACE PROCEDURE devdiag.refresh_rollups(
    p_tenant text DEFAULT NULL,
    p_lock_wait interval DEFAULT '5 seconds',
    p_batch bigint DEFAULT 200000,
    INOUT folded bigint DEFAULT NULL,
    p_tenants text[] DEFAULT NULL
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
-- The run tables have a partition per day: CHECK constraints cannot exclude
-- any of them (their bounds do), and the rows read are few.
SET constraint_exclusion = off
SET max_parallel_workers_per_gather = 0
-- A session that refreshes again and again (the sync's fold beside its landing)
-- plans each refresh for the partitions as they are now.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_hi bigint;
    v_lo bigint;
    v_from bigint;
    v_to bigint;
    v_runs bigint := 0;
    c_tenant text[];
    c_ts timestamptz[];
    c_target text[];
    c_env text[];
    c_problems jsonb[];
    c_sign integer[];
    g_tenant text[];
    g_problem text[];
    g_fix text[];
    t_tenant text[];
    t_target text[];
    t_from timestamptz[];
    t_reports boolean[];
    v_purged regclass[];
    v_part regclass;
    -- the tenants this refresh folds (NULL: every tenant)
    v_tenants text[];
    -- tenants the all-tenant refresh locked: those with rows left to fold
    v_locked bigint;
BEGIN
    IF p_batch IS NULL OR p_batch < 1 THEN
        RAISE EXCEPTION 'refresh_rollups: p_batch must be at least 1, not %', coalesce(p_batch::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_tenant IS NOT NULL AND p_tenants IS NOT NULL THEN
        RAISE EXCEPTION 'refresh_rollups: give p_tenant or p_tenants, not both'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF array_position(p_tenants, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'refresh_rollups: p_tenants holds a NULL tenant'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_tenants IS NOT NULL AND cardinality(p_tenants) = 0 THEN
        -- No tenant asked for: nothing to fold.
        folded := 0;
        RETURN;
    END IF;
    v_tenants := CASE WHEN p_tenant IS NOT NULL THEN ARRAY[p_tenant]
        ELSE (SELECT array_agg(DISTINCT t.tenant ORDER BY t.tenant) FROM unnest(p_tenants) AS t (tenant)) END;
    -- Lock order, shared with the purge and the owner's row triggers: the
    -- all-tenant key, the safe point (released at once), tenant keys in
    -- hashtext order, then the tables. A refresh of one tenant finds its safe
    -- point before it waits for the tenant: an owner's DELETE of that tenant's
    -- runs holds the run tables while its trigger waits for the tenant.
    IF v_tenants IS NULL THEN
        PERFORM devdiag.take_lock(7236114, 0);
    END IF;
    v_hi := devdiag.rollup_safe_point(p_lock_wait);
    IF v_hi IS NULL THEN
        RAISE NOTICE 'refresh_rollups: writers held their tables for more than %; nothing folded this time', p_lock_wait;
        folded := NULL;
        RETURN;
    END IF;
    IF v_tenants IS NOT NULL THEN
        PERFORM devdiag.take_lock(7236111, l.k)
        FROM (SELECT DISTINCT hashtext(t.tenant) AS k FROM unnest(v_tenants) AS t (tenant) ORDER BY 1) AS l;
    END IF;
    SELECT s.folded_through INTO v_lo FROM devdiag_rollup.rollup_refresh_state AS s;
    IF v_tenants IS NOT NULL THEN
        -- From the lowest of the tenants' own watermarks: the reads below skip,
        -- per tenant, the runs below a higher one.
        SELECT greatest(v_lo, min(coalesce(w.folded_through, 0))) INTO v_lo
        FROM unnest(v_tenants) AS t (tenant)
        LEFT JOIN devdiag_rollup.rollup_tenant_watermark AS w ON t.tenant = w.tenant;
    END IF;
    IF v_tenants IS NULL THEN
        SELECT array_agg(p.part ORDER BY p.day, p.part) INTO v_purged FROM devdiag_rollup.rollup_purged_day AS p;
    ELSE
        -- The purged days, their list rows locked until commit: the
        -- all-tenant refresh deletes a day's row before it drops the day, so
        -- none is dropped under this one.
        SELECT array_agg(x.part ORDER BY x.day, x.part) INTO v_purged
        FROM (
            SELECT p.part, p.day FROM devdiag_rollup.rollup_purged_day AS p ORDER BY p.day, p.part FOR KEY SHARE
        ) AS x;
    END IF;
    IF EXISTS (
        SELECT FROM unnest(v_purged) AS x (part)
        WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = x.part)
    ) THEN
        RAISE EXCEPTION 'refresh_rollups: a purged archive day listed in devdiag_rollup.rollup_purged_day was '
            'dropped before its runs left the rollups'
            USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'SELECT devdiag.rollup_rebuild() recounts the rollups from the runs left and clears the list.';
    END IF;
    IF v_tenants IS NOT NULL THEN
        -- These tenants' runs of those days leave the rollups, and the day
        -- kept aside, before anything of theirs is folded or replayed.
        -- (names from regclass values)
        PERFORM devdiag.rollup_forget_runs(
            array_agg(p.part ORDER BY p.day, p.part), array_agg(p.folded_through ORDER BY p.day, p.part),
            array_agg(p.tenant_folded ORDER BY p.day, p.part), v_tenants
        )
        FROM devdiag_rollup.rollup_purged_day AS p
        WHERE p.part = ANY (v_purged)
        HAVING count(*) > 0;
        FOREACH v_part IN ARRAY coalesce(v_purged, '{}'::regclass []) LOOP
            EXECUTE format('DELETE FROM %s AS o WHERE o.tenant = ANY ($1)', v_part) USING v_tenants;
        END LOOP;
    END IF;
    IF v_hi <= v_lo AND (v_tenants IS NOT NULL OR v_purged IS NULL) THEN
        -- Nothing written or purged since: the rollups are current as of now.
        IF v_tenants IS NULL THEN
            UPDATE devdiag_rollup.rollup_refresh_state SET refreshed_at = now();
        END IF;
        folded := 0;
        RETURN;
    END IF;
    -- Block ranges of the ingest index are summarised by autovacuum some time
    -- after they fill; until then every scan below would read them whole.
    -- Summarise them first (one read of the new pages), so each scan reads
    -- only the ranges that hold new ids; later inserts keep a summarised
    -- range's summary up to date. Indexes the owner owns only (a partition made
    -- by another role waits for autovacuum).
    -- The run tables are locked first (as the folds lock them, and retention:
    -- table before partitions, live before archive), so no partition is
    -- detached or dropped between the catalog read below and its summary.
    LOCK TABLE ONLY devdiag.diag_run, ONLY devdiag.diag_run_archive IN ACCESS SHARE MODE;
    PERFORM brin_summarize_new_values(i.indexrelid)
    FROM pg_catalog.pg_index AS i
    JOIN pg_catalog.pg_class AS c ON i.indexrelid = c.oid
    JOIN pg_catalog.pg_am AS m ON c.relam = m.oid
    JOIN pg_catalog.pg_inherits AS h ON i.indrelid = h.inhrelid
    WHERE h.inhparent IN ('devdiag.diag_run'::regclass, 'devdiag.diag_run_archive'::regclass)
        AND m.amname = 'brin' AND pg_has_role(current_user, c.relowner, 'USAGE');
    PERFORM brin_summarize_new_values('devdiag.fix_outcome_ingest_brin'::regclass)
    WHERE pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class AS c
        WHERE c.oid = 'devdiag.fix_outcome_ingest_brin'::regclass), 'USAGE');

    IF v_tenants IS NULL THEN
        -- Every tenant with rows to fold or purged runs to forget, locked
        -- before any rollup row is touched. Names come from regclass values.
        -- None (refreshes of sets of tenants folded them all): the range is
        -- not read again below.
        EXECUTE format(
            'SELECT count(devdiag.take_lock(7236111, l.k)) FROM ('
            'SELECT DISTINCT hashtext(r.tenant) AS k FROM ('
            'SELECT x.tenant FROM devdiag.rollup_runs_between($1, $2, NULL) AS x '
            'UNION ALL SELECT g.tenant FROM devdiag.rollup_fix_groups_between($1, $2, NULL) AS g%s'
            ') AS r ORDER BY 1) AS l',
            (SELECT coalesce(string_agg(format(' UNION ALL SELECT o.tenant FROM %s AS o', x.part), ''), '')
             FROM unnest(v_purged) AS x (part)))
        INTO v_locked
        USING v_lo, v_hi;
        -- Purged days first, by the watermarks of their purge: their runs
        -- folded by then leave, the others were never counted (all days in
        -- one call, so each target is replayed once).
        PERFORM devdiag.rollup_forget_runs(
            array_agg(p.part ORDER BY p.day, p.part), array_agg(p.folded_through ORDER BY p.day, p.part),
            array_agg(p.tenant_folded ORDER BY p.day, p.part)
        )
        FROM devdiag_rollup.rollup_purged_day AS p
        WHERE p.part = ANY (v_purged)
        HAVING count(*) > 0;
        FOREACH v_part IN ARRAY coalesce(v_purged, '{}'::regclass []) LOOP
            DELETE FROM devdiag_rollup.rollup_purged_day AS p WHERE p.part = v_part;
            EXECUTE format('DROP TABLE %s', v_part);
        END LOOP;
    END IF;

    v_from := CASE WHEN v_locked = 0 THEN v_hi ELSE v_lo END;
    WHILE v_from < v_hi LOOP
        v_to := least(v_hi, v_from + p_batch);
        SELECT
            array_agg(r.tenant), array_agg(r.ts), array_agg(r.target_hash), array_agg(r.env_fp),
            array_agg(r.problems), array_agg(r.sign)
        INTO c_tenant, c_ts, c_target, c_env, c_problems, c_sign
        FROM devdiag.rollup_runs_between(v_from, v_to, v_tenants) AS r;
        SELECT array_agg(g.tenant), array_agg(g.problem_code), array_agg(g.fix_code)
        INTO g_tenant, g_problem, g_fix
        FROM devdiag.rollup_fix_groups_between(v_from, v_to, v_tenants) AS g;
        PERFORM devdiag.rollup_apply_runs(c_tenant, c_ts, c_target, c_env, c_problems, c_sign);
        PERFORM devdiag.rollup_apply_fix_groups(g_tenant, g_problem, g_fix);
        -- The targets so far, each once with its earliest ts, and this
        -- batch's (from the runs in hand: the range is not read again for them;
        -- arrays read by unnest in the select list, which streams them).
        SELECT array_agg(t.tenant), array_agg(t.target_hash), array_agg(t.t0), array_agg(t.reports)
        INTO t_tenant, t_target, t_from, t_reports
        FROM (
            SELECT u.tenant, u.target_hash, min(u.t0) AS t0, bool_or(u.reports) AS reports
            FROM (
                SELECT unnest(t_tenant) AS tenant, unnest(t_target) AS target_hash, unnest(t_from) AS t0,
                    unnest(t_reports) AS reports
                UNION ALL
                SELECT x.tenant, x.target_hash, x.ts, jsonb_array_length(x.problems) > 0
                FROM (
                    SELECT unnest(c_tenant) AS tenant, unnest(c_target) AS target_hash, unnest(c_ts) AS ts,
                        unnest(c_problems) AS problems
                ) AS x
            ) AS u
            GROUP BY u.tenant, u.target_hash
        ) AS t;
        v_runs := v_runs + coalesce((SELECT count(*) FROM (SELECT unnest(c_sign) AS sign) AS x WHERE x.sign > 0), 0);
        v_from := v_to;
    END LOOP;

    -- Folds by target (the episode replay) take each target once, with the
    -- earliest ts the whole range brought, however many batches it spans:
    -- replaying a target once per batch would read its later runs again each
    -- time. (Sorted, so each chunk of them holds few tenants.)
    SELECT array_agg(t.tenant ORDER BY t.tenant, t.target_hash), array_agg(t.target_hash ORDER BY t.tenant, t.target_hash),
        array_agg(t.t0 ORDER BY t.tenant, t.target_hash), array_agg(t.reports ORDER BY t.tenant, t.target_hash)
    INTO t_tenant, t_target, t_from, t_reports
    FROM (
        SELECT unnest(t_tenant) AS tenant, unnest(t_target) AS target_hash, unnest(t_from) AS t0,
            unnest(t_reports) AS reports
    ) AS t;
    PERFORM devdiag.rollup_apply_targets(t_tenant, t_target, t_from, t_reports);

    DELETE FROM devdiag_rollup.rollup_run_change AS q
    WHERE q.ingest_id <= v_hi AND (v_tenants IS NULL OR q.tenant = ANY (v_tenants));
    DELETE FROM devdiag_rollup.rollup_fix_change AS q
    WHERE q.ingest_id <= v_hi AND (v_tenants IS NULL OR q.tenant = ANY (v_tenants));

    IF v_tenants IS NULL THEN
        UPDATE devdiag_rollup.rollup_refresh_state
        SET folded_through = greatest(folded_through, v_hi), refreshed_at = now();
        DELETE FROM devdiag_rollup.rollup_tenant_watermark AS w WHERE w.folded_through <= v_hi;
    ELSE
        INSERT INTO devdiag_rollup.rollup_tenant_watermark AS w (tenant, folded_through, refreshed_at)
        SELECT t.tenant, v_hi, now() FROM unnest(v_tenants) AS t (tenant) ORDER BY 1
        ON CONFLICT (tenant) DO UPDATE
        SET folded_through = greatest(w.folded_through, excluded.folded_through), refreshed_at = excluded.refreshed_at;
    END IF;
    folded := v_runs;
END;
$$;

COMMENT ON PROCEDURE devdiag.refresh_rollups(text, interval, bigint, bigint, text[]) IS  -- noqa: LT01
'Folds the runs and fix outcomes written since the last refresh into every rollup (one tenant, or a set of '
'tenants, when given); '
'returns the runs folded, or NULL when writers held their tables longer than p_lock_wait.';
