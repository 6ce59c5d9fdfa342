-- Why: rollup_episode_day counts the episodes of rollup_ttr_episode per
-- tenant, problem, first-seen day and first-zero day, rollup_resolved_day
-- sums the resolved ones per tenant and first-zero day, and
-- rollup_recurrence_day counts them per tenant, problem and first-seen day
-- by how many days before each its previous episode began (since_previous[k]:
-- k or more days before, or no previous episode; k = 1 .. 92), so a window
-- of up to 92 days finds the episodes that are their target's first in it
-- with one element per row. The episode replay
-- (devdiag.rollup_recompute_episodes, below) hands every episode row it removed (-1) or added (+1)
-- here in the same statement, so all three stay exact whatever replays episodes (a
-- refresh, a purge, a rebuild). Most episode updates only move last_seen:
-- their -1 and +1 cancel and touch no row. A row goes when its counts reach
-- zero, as a count over the episodes would have no row there.
DROP FUNCTION IF EXISTS devdiag.rollup_episode_day_apply(text[], text[], date[], date[], integer[], boolean[]);
DROP FUNCTION IF EXISTS devdiag.rollup_episode_day_apply(
    text[], text[], timestamptz[], timestamptz[], integer[], integer[]
);

CREATE OR REPLACE FUNCTION devdiag.rollup_episode_day_apply(
    p_tenant text[],
    p_code text[],
    p_started timestamptz[],
    p_resolved timestamptz[],
    p_episode_no integer[],
    p_prev timestamptz[],
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
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_code) AS problem_code, unnest(p_started) AS started_at,
                unnest(p_resolved) AS resolved_at, unnest(p_episode_no) AS episode_no, unnest(p_sign) AS sign
        ) AS g
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
        -- By key alone: the upsert above returned these rows at zero and
        -- holds their row locks until commit. (With a filter on the zero
        -- counts, which the statistics never see, the planner expected no
        -- such row and compared every zero row with every key; each open
        -- episode resolved in a refresh leaves its open day at zero.)
        DELETE FROM devdiag_rollup.rollup_episode_day AS d
        USING unnest(z_tenant, z_code, z_start, z_end) AS z (tenant, problem_code, start_day, end_day)
        WHERE d.tenant = z.tenant AND d.problem_code = z.problem_code AND d.start_day = z.start_day
            AND d.end_day = z.end_day;
    END IF;

    -- Resolved episodes per first-zero day, and the sum of their ttr_days.
    SELECT array_agg(r.tenant), array_agg(r.day), array_agg(r.episodes), array_agg(r.ttr)
    INTO z_tenant, z_day, z_episodes, z_ttr
    FROM (
        SELECT
            g.tenant, devdiag.utc_day(g.resolved_at) AS day, sum(g.sign) AS episodes,
            sum(g.sign * (devdiag.utc_day(g.resolved_at) - devdiag.utc_day(g.started_at))) AS ttr
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_started) AS started_at, unnest(p_resolved) AS resolved_at,
                unnest(p_sign) AS sign
        ) AS g
        WHERE g.resolved_at IS NOT NULL
        GROUP BY 1, 2
        HAVING sum(g.sign) <> 0 OR sum(g.sign * (devdiag.utc_day(g.resolved_at) - devdiag.utc_day(g.started_at))) <> 0
    ) AS r;
    IF z_tenant IS NOT NULL THEN
        PERFORM devdiag.rollup_add_per_tenant_day(
            'devdiag_rollup.rollup_resolved_day', '{episodes,ttr_days_sum}', z_tenant, z_day, z_episodes, z_ttr
        );
    END IF;

    PERFORM devdiag.rollup_recurrence_day_apply(p_tenant, p_code, p_started, p_episode_no, p_prev, p_sign);
    PERFORM devdiag.rollup_ttr_block_apply(p_tenant, p_code, p_started, p_resolved, p_sign);
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_episode_day_apply(
    text[], text[], timestamptz[], timestamptz[], integer[], timestamptz[], integer[]
) IS
'Moves rollup_episode_day, rollup_resolved_day, rollup_recurrence_day and rollup_ttr_block by signed episode rows '
'(tenant, problem, started_at, resolved_at, episode_no, prev_started_at, sign); drops the rows that reach zero.';

-- Why: rollup_recurrence_day (see rollup_episode_day_apply above) moves by the
-- same signed episode rows; a warehouse that had episodes before it existed
-- fills it from them once, through this function alone.
CREATE OR REPLACE FUNCTION devdiag.rollup_recurrence_day_apply(
    p_tenant text[],
    p_code text[],
    p_started timestamptz[],
    p_episode_no integer[],
    p_prev timestamptz[],
    p_sign integer[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    -- the length of since_previous: the longest window it answers, in days
    c_days CONSTANT integer := 92;
    z_tenant text[];
    z_code text[];
    z_start date[];
BEGIN
    -- Each episode counts in since_previous[1 .. its gap in days] (the gap
    -- capped at c_days, and c_days with no previous episode). The signed episodes are
    -- counted per gap first, for the days whose counts per gap moved (an
    -- episode that only moved on cancels). Element k is then the episodes
    -- with a gap of at least k: from the longest gap down, each gap holds that
    -- sum over the elements down to the next shorter gap, so a day's array is
    -- one run of equal values per gap that moved, joined in gap order.
    WITH g AS (
        SELECT
            u.tenant, u.problem_code, devdiag.utc_day(u.started_at) AS start_day, u.episode_no, u.sign,
            CASE WHEN u.prev IS NULL THEN c_days
                ELSE least(c_days, devdiag.utc_day(u.started_at) - devdiag.utc_day(u.prev)) END AS gap
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_code) AS problem_code, unnest(p_started) AS started_at,
                unnest(p_episode_no) AS episode_no, unnest(p_prev) AS prev, unnest(p_sign) AS sign
        ) AS u
    ),
    by_gap AS (
        SELECT g.tenant, g.problem_code, g.start_day, g.gap, sum(g.sign)::integer AS episodes
        FROM g
        GROUP BY 1, 2, 3, 4
        HAVING sum(g.sign) <> 0
    ),
    by_day AS (
        SELECT
            g.tenant, g.problem_code, g.start_day, sum(g.sign) AS episodes,
            coalesce(sum(g.sign) FILTER (WHERE g.episode_no > 1), 0) AS recurrences
        FROM g
        GROUP BY 1, 2, 3
    ),
    runs AS (
        SELECT
            b.tenant, b.problem_code, b.start_day, b.gap,
            (sum(b.episodes) OVER w)::integer AS at_least,
            lead(b.gap, 1, 0) OVER w AS shorter
        FROM by_gap AS b
        WINDOW w AS (PARTITION BY b.tenant, b.problem_code, b.start_day ORDER BY b.gap DESC)
    ),
    arrays AS (
        SELECT
            r.tenant, r.problem_code, r.start_day,
            devdiag.int_array_concat(array_fill(r.at_least, ARRAY[r.gap - r.shorter]) ORDER BY r.gap)
            || array_fill(0, ARRAY[c_days - max(r.gap)]) AS since_previous
        FROM runs AS r
        GROUP BY 1, 2, 3
    ),
    delta AS (
        SELECT
            d.tenant, d.problem_code, d.start_day, d.episodes, d.recurrences,
            coalesce(a.since_previous, array_fill(0, ARRAY[c_days])) AS since_previous
        FROM by_day AS d
        LEFT JOIN arrays AS a
            ON d.tenant = a.tenant AND d.problem_code = a.problem_code AND d.start_day = a.start_day
        WHERE d.episodes <> 0 OR d.recurrences <> 0 OR a.tenant IS NOT NULL
    ),
    up AS (
        INSERT INTO devdiag_rollup.rollup_recurrence_day AS r (
            tenant, problem_code, start_day, episodes, recurrences, since_previous
        )
        SELECT d.tenant, d.problem_code, d.start_day, d.episodes, d.recurrences, d.since_previous
        FROM delta AS d
        ORDER BY 1, 2, 3
        ON CONFLICT (tenant, problem_code, start_day) DO UPDATE
        SET episodes = r.episodes + excluded.episodes,
            recurrences = r.recurrences + excluded.recurrences,
            -- (element by element: two unnests in one select list run in
            -- lockstep, in element order, with no sort)
            since_previous = ARRAY(SELECT unnest(r.since_previous) + unnest(excluded.since_previous))
        RETURNING r.tenant, r.problem_code, r.start_day, r.episodes
    )
    SELECT array_agg(up.tenant), array_agg(up.problem_code), array_agg(up.start_day)
    INTO z_tenant, z_code, z_start
    FROM up
    WHERE up.episodes = 0;
    IF z_tenant IS NOT NULL THEN
        -- (no episode left that day: every count is zero)
        DELETE FROM devdiag_rollup.rollup_recurrence_day AS r
        USING unnest(z_tenant, z_code, z_start) AS z (tenant, problem_code, start_day)
        WHERE r.tenant = z.tenant AND r.problem_code = z.problem_code AND r.start_day = z.start_day
            AND r.episodes = 0;
    END IF;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_recurrence_day_apply(
    text[], text[], timestamptz[], integer[], timestamptz[], integer[]
) IS
'Moves rollup_recurrence_day by signed episode rows (tenant, problem, started_at, episode_no, prev_started_at, '
'sign); drops the rows that reach zero.';

-- Why: rollup_ttr_block (see rollup_episode_day_apply above) moves by the
-- same signed episode rows, the resolved ones, on each of its block lengths;
-- a warehouse that had episodes before it existed fills it from them once,
-- through this function alone. Each row's counts are kept twice: as the
-- array and packed into one integer (ttr_counts_packed, which sql/queries/320
-- sums); the changes to a row add to both, so a write costs one numeric
-- addition more, not a packing of the whole array.
CREATE OR REPLACE FUNCTION devdiag.rollup_ttr_block_apply(
    p_tenant text[],
    p_code text[],
    p_started timestamptz[],
    p_resolved timestamptz[],
    p_sign integer[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    -- the buckets of devdiag.ttr_bucket: 0 .. c_buckets - 1
    c_buckets CONSTANT integer := 128;
    z_tenant text[];
    z_code text[];
    z_days integer[];
    z_start date[];
BEGIN
    -- The signed episodes are counted per first-zero day and bucket first (an
    -- episode that only moved on cancels there), then per block of each
    -- length that holds the day, then laid out as one array per block.
    WITH by_day AS (
        SELECT
            u.tenant, u.problem_code, devdiag.utc_day(u.resolved_at) AS day,
            devdiag.ttr_bucket(u.resolved_at - u.started_at) AS bucket, sum(u.sign) AS episodes,
            sum(u.sign * (devdiag.utc_day(u.resolved_at) - devdiag.utc_day(u.started_at))) AS ttr_days
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_code) AS problem_code, unnest(p_started) AS started_at,
                unnest(p_resolved) AS resolved_at, unnest(p_sign) AS sign
        ) AS u
        WHERE u.resolved_at IS NOT NULL
        GROUP BY 1, 2, 3, 4
        HAVING sum(u.sign) <> 0
            OR sum(u.sign * (devdiag.utc_day(u.resolved_at) - devdiag.utc_day(u.started_at))) <> 0
    ),
    by_block AS (
        SELECT
            d.tenant, d.problem_code, l.days AS block_days,
            -- (the day's block of this length: a multiple of it after 1970-01-01)
            d.day - (((d.day - DATE '1970-01-01') % l.days + l.days) % l.days) AS block_start,
            d.bucket, sum(d.episodes) AS episodes, sum(d.ttr_days) AS ttr_days
        FROM by_day AS d
        CROSS JOIN unnest(ARRAY[1, 2, 4, 8, 16, 32, 64]) AS l (days)
        GROUP BY 1, 2, 3, 4, 5
    ),
    delta AS (
        SELECT
            b.tenant, b.problem_code, b.block_days, b.block_start, sum(b.episodes)::bigint AS episodes,
            sum(b.ttr_days)::bigint AS ttr_days_sum,
            array_agg(b.bucket) AS buckets, array_agg(b.episodes::integer) AS counts,
            -- (the same counts packed: twelve digits per bucket, bucket 0 first)
            sum(b.episodes * ('1e' || 12 * (c_buckets - 1 - b.bucket))::numeric) AS counts_packed
        FROM by_block AS b
        GROUP BY 1, 2, 3, 4
    ),
    up AS (
        INSERT INTO devdiag_rollup.rollup_ttr_block AS r (
            tenant, problem_code, block_days, block_start, episodes, ttr_days_sum, ttr_counts, ttr_counts_packed
        )
        SELECT
            d.tenant, d.problem_code, d.block_days, d.block_start, d.episodes, d.ttr_days_sum,
            -- (the block's array: the zeros below each moved bucket, then its
            -- count, in bucket order, and zeros above the last; a block's
            -- buckets are distinct, by_block grouped by them)
            (
                SELECT
                    devdiag.int_array_concat(array_fill(0, ARRAY[x.bucket - x.below - 1]) || x.n ORDER BY x.bucket)
                    || array_fill(0, ARRAY[c_buckets - 1 - max(x.bucket)])
                FROM (
                    SELECT u.bucket, u.n, lag(u.bucket, 1, -1) OVER (ORDER BY u.bucket) AS below
                    FROM unnest(d.buckets, d.counts) AS u (bucket, n)
                ) AS x
            ),
            d.counts_packed
        FROM delta AS d
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (tenant, problem_code, block_days, block_start) DO UPDATE
        SET episodes = r.episodes + excluded.episodes,
            ttr_days_sum = r.ttr_days_sum + excluded.ttr_days_sum,
            -- (element by element, as since_previous above)
            ttr_counts = ARRAY(SELECT unnest(r.ttr_counts) + unnest(excluded.ttr_counts)),
            -- (packed, the counts add up as one integer)
            ttr_counts_packed = r.ttr_counts_packed + excluded.ttr_counts_packed
        RETURNING r.tenant, r.problem_code, r.block_days, r.block_start, r.episodes
    )
    SELECT array_agg(up.tenant), array_agg(up.problem_code), array_agg(up.block_days), array_agg(up.block_start)
    INTO z_tenant, z_code, z_days, z_start
    FROM up
    WHERE up.episodes = 0;
    IF z_tenant IS NOT NULL THEN
        -- (no resolved episode left in the block: every count is zero)
        DELETE FROM devdiag_rollup.rollup_ttr_block AS r
        USING unnest(z_tenant, z_code, z_days, z_start) AS z (tenant, problem_code, block_days, block_start)
        WHERE r.tenant = z.tenant AND r.problem_code = z.problem_code AND r.block_days = z.block_days
            AND r.block_start = z.block_start AND r.episodes = 0;
    END IF;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_ttr_block_apply(text[], text[], timestamptz[], timestamptz[], integer[]) IS
'Moves rollup_ttr_block by signed episode rows (tenant, problem, started_at, resolved_at, sign); '
'drops the rows that reach zero.';

-- Why: an episode depends only on the runs of its own target, and a changed
-- run can only change what follows it. So for each target a statement touched
-- the state machine of devdiag_ref.ttr_episodes() is replayed from the earliest
-- changed ts only, seeded with the episodes open just before it, and only the
-- episodes that differ are deleted and inserted. One ordered query feeds all
-- targets at once; the loop keeps its state in arrays (the reference keeps it
-- in jsonb), which is what makes it several times faster.
-- Episode numbers (episode_no, 1, 2, ... per target and problem) can only
-- change from t0 on too: the episodes ended before t0 keep theirs, and the
-- replayed ones are numbered on from the last of those (one index probe per
-- target and problem, only where no stored episode after t0 gives it).
-- A set-based recursive CTE over episodes (islands of same-preset reports,
-- chains of openers) was an order of magnitude slower than this loop, and the
-- reference function several times slower.
-- The runs from each target's t0 on are read by one index probe per target
-- and day partition, or, when that is more work, by one scan of the days from
-- the earliest t0 on, hash-joined to the targets (a backfill, a sync's pass
-- over thousands of targets, where most probes would find a handful of runs
-- or none). A probe costs about as much as reading four runs; a partition's
-- runs are estimated from its size, which is current where statistics may not
-- be. The session setting devdiag.replay_read ('probe' or 'scan') fixes the
-- choice, for tests.
DROP FUNCTION IF EXISTS devdiag.rollup_recompute_episodes(text[], text[], timestamptz[]);

CREATE OR REPLACE FUNCTION devdiag.rollup_recompute_episodes(
    p_tenant text[],
    p_target text[],
    p_from timestamptz[],
    p_reports boolean[]
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
-- Partitions are pruned by their bounds; their CHECK constraints exclude nothing.
SET constraint_exclusion = off
-- Planned for each call: a plan cached while a day's partition was nearly empty
-- probes every target through the tenant's time index once the day has filled.
SET plan_cache_mode = force_custom_plan
-- A scan of the days is joined to the targets by hashing the targets: a merge
-- join would sort every run scanned by its text keys first.
SET enable_mergejoin = off
AS $$
DECLARE
    a_tenant text[];
    a_target text[];
    a_from timestamptz[];
    a_reports boolean[];
    v_archive_max timestamptz;
    v_min_t0 timestamptz;
    v_tenants text[];
    v_parts bigint;
    v_rows numeric;
    v_scan boolean;
    r record;
    cur_tk bigint := 0;
    -- open episodes of the current target (code, preset, start, last seen, start id)
    oc text[] := '{}'::text[];
    op text[] := '{}'::text[];
    os timestamptz[] := '{}'::timestamptz[];
    ol timestamptz[] := '{}'::timestamptz[];
    oi bigint[] := '{}'::bigint[];
    n integer := 0;
    k integer;
    c text;
    -- episodes computed (target number, code, preset, start, last seen, end, start id, end id)
    e_tk bigint[] := '{}'::bigint[];
    e_code text[] := '{}'::text[];
    e_preset text[] := '{}'::text[];
    e_start timestamptz[] := '{}'::timestamptz[];
    e_last timestamptz[] := '{}'::timestamptz[];
    e_end timestamptz[] := '{}'::timestamptz[];
    e_sid bigint[] := '{}'::bigint[];
    e_eid bigint[] := '{}'::bigint[];
    m integer := 0;
    v_changed integer := 0;
    -- the stored episodes of these targets not ended before t0
    o_tk bigint[];
    o_code text[];
    o_preset text[];
    o_start timestamptz[];
    o_last timestamptz[];
    o_end timestamptz[];
    o_sid bigint[];
    o_eid bigint[];
    o_ttr integer[];
    o_no integer[];
    o_prev timestamptz[];
    -- the difference to apply: sign -1 = episode gone, 1 = episode added
    g_sign integer[];
    g_tenant text[];
    g_target text[];
    g_code text[];
    g_preset text[];
    g_start timestamptz[];
    g_last timestamptz[];
    g_end timestamptz[];
    g_sid bigint[];
    g_eid bigint[];
    g_ttr integer[];
    g_no integer[];
    g_prev timestamptz[];
    z_hist_tenant text[];
    z_hist_code text[];
    z_hist_ttr integer[];
    z_stat_tenant text[];
    z_stat_code text[];
BEGIN
    IF p_tenant IS NULL THEN
        RETURN 0;
    END IF;
    -- One row per target, from its earliest changed run; sorted so locks and
    -- upserts below go in one order.
    SELECT array_agg(x.tenant ORDER BY x.tenant, x.target_hash),
           array_agg(x.target_hash ORDER BY x.tenant, x.target_hash),
           array_agg(x.t0 ORDER BY x.tenant, x.target_hash),
           array_agg(x.reports ORDER BY x.tenant, x.target_hash)
    INTO a_tenant, a_target, a_from, a_reports
    FROM (
        SELECT u.tenant, u.target_hash, min(u.t0) AS t0, bool_or(u.reports) AS reports
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_target) AS target_hash, unnest(p_from) AS t0,
                unnest(p_reports) AS reports
        ) AS u
        GROUP BY 1, 2
    ) AS x;

    -- Writers of one tenant replay its episodes one at a time, each from a
    -- snapshot taken after the previous one committed (statements below run
    -- with a new snapshot in READ COMMITTED).
    PERFORM devdiag.take_lock(7236111, l.k)
    FROM (SELECT DISTINCT hashtext(t.tenant) AS k FROM unnest(a_tenant) AS t (tenant) ORDER BY 1) AS l;

    -- Archived runs rarely reach the recent past: skip probing the archive then
    -- (an upper bound from the archive's partitions, not a scan).
    v_archive_max := devdiag.run_ts_ceiling('devdiag.diag_run_archive');

    -- Probe each target's days, or scan the days once (see the header).
    SELECT min(u.t0) INTO v_min_t0 FROM unnest(a_from) AS u (t0);
    -- (the scan reads only these tenants' rows: a refresh of one tenant stays on its shard)
    SELECT array_agg(DISTINCT u.tenant) INTO v_tenants FROM unnest(a_tenant) AS u (tenant);
    SELECT e.parts, e.est_rows INTO v_parts, v_rows
    FROM devdiag.run_rows_estimate(v_min_t0, v_min_t0 <= v_archive_max) AS e;
    v_scan := CASE current_setting('devdiag.replay_read', TRUE)
        WHEN 'scan' THEN TRUE
        WHEN 'probe' THEN FALSE
        ELSE v_rows < cardinality(a_tenant)::numeric * v_parts * 4
    END;

    -- The stored episodes not ended before t0: replaced below if they differ;
    -- those begun before t0 seed the replay. (OFFSET 0 keeps the planner on one
    -- index probe per target instead of sorting the whole table.)
    SELECT array_agg(a.tk), array_agg(e.problem_code), array_agg(e.preset), array_agg(e.started_at),
        array_agg(e.last_seen), array_agg(e.resolved_at), array_agg(e.start_run_id), array_agg(e.end_run_id),
        array_agg(e.ttr_days), array_agg(e.episode_no), array_agg(e.prev_started_at)
    INTO o_tk, o_code, o_preset, o_start, o_last, o_end, o_sid, o_eid, o_ttr, o_no, o_prev
    FROM unnest(a_tenant, a_target, a_from) WITH ORDINALITY AS a (tenant, target_hash, t0, tk)
    CROSS JOIN LATERAL (
        SELECT x.problem_code, x.preset, x.started_at, x.last_seen, x.resolved_at, x.start_run_id,
            x.end_run_id, x.ttr_days, x.episode_no, x.prev_started_at
        FROM devdiag_rollup.rollup_ttr_episode AS x
        WHERE x.tenant = a.tenant AND x.target_hash = a.target_hash
            AND coalesce(x.resolved_at, 'infinity') >= a.t0
        OFFSET 0
    ) AS e;

    -- A target with no stored episode ending at or after t0 had nothing open at
    -- t0 and no report since (a report would have an episode there); if none of
    -- its changed runs reports a problem either, replaying it yields nothing.
    FOR r IN
        WITH a AS (
            SELECT u.tenant, u.target_hash, u.t0, u.tk
            FROM unnest(a_tenant, a_target, a_from, a_reports) WITH ORDINALITY
                AS u (tenant, target_hash, t0, reports, tk)
            WHERE u.reports OR u.tk = ANY (coalesce(o_tk, '{}'::bigint []))
        )
        -- kind 0: episodes open just before t0, with what they had seen until then
        -- (ordered as the target index is, like kind 1 below)
        SELECT
            a.tk, 0 AS kind, e.started_at AS ts, e.start_run_id AS id, e.preset, NULL::text[] AS codes,
            e.problem_code,
            CASE WHEN e.last_seen < a.t0 THEN e.last_seen ELSE greatest(
                (
                    SELECT d.ts FROM devdiag.diag_run AS d
                    WHERE d.tenant = a.tenant AND d.target_hash = a.target_hash
                        AND d.ts >= e.started_at AND d.ts < a.t0
                        AND (d.preset = 'full' OR d.preset IS NOT DISTINCT FROM e.preset)
                        AND d.problems ? e.problem_code
                    ORDER BY d.ts DESC, d.id DESC LIMIT 1
                ),
                (
                    SELECT d.ts FROM devdiag.diag_run_archive AS d
                    WHERE d.tenant = a.tenant AND d.target_hash = a.target_hash
                        AND d.ts >= e.started_at AND d.ts < a.t0
                        AND (d.preset = 'full' OR d.preset IS NOT DISTINCT FROM e.preset)
                        AND d.problems ? e.problem_code
                    ORDER BY d.ts DESC, d.id DESC LIMIT 1
                )
            ) END AS last_seen
        FROM (
            SELECT unnest(o_tk) AS tk, unnest(o_code) AS problem_code, unnest(o_preset) AS preset,
                unnest(o_start) AS started_at, unnest(o_last) AS last_seen, unnest(o_sid) AS start_run_id
        ) AS e
        INNER JOIN a ON e.tk = a.tk
        WHERE e.started_at < a.t0
        UNION ALL
        -- kind 1: every run of the target from t0 on, live and archived
        SELECT
            x.tk, 1, x.ts, x.id, x.preset,
            CASE WHEN jsonb_array_length(x.problems) = 0 THEN '{}'::text []
                ELSE ARRAY(SELECT jsonb_array_elements_text(x.problems)) END,
            NULL, NULL
        FROM (
            -- by one scan of the days from the earliest t0 on ...
            SELECT a.tk, d.ts, d.id, d.preset, d.problems
            FROM a
            INNER JOIN (
                SELECT dr.tenant, dr.target_hash, dr.ts, dr.id, dr.preset, dr.problems FROM devdiag.diag_run AS dr
                WHERE v_scan AND dr.ts >= v_min_t0 AND dr.tenant = ANY (v_tenants)
                UNION ALL
                SELECT dr.tenant, dr.target_hash, dr.ts, dr.id, dr.preset, dr.problems FROM devdiag.diag_run_archive AS dr
                WHERE v_scan AND dr.ts >= v_min_t0 AND v_min_t0 <= v_archive_max AND dr.tenant = ANY (v_tenants)
            ) AS d ON a.tenant = d.tenant AND a.target_hash = d.target_hash AND d.ts >= a.t0
            UNION ALL
            SELECT a.tk, d.ts, d.id, d.preset, d.problems
            FROM a
            CROSS JOIN LATERAL (
                -- ... or by probes of each target's days, in the target index's
                -- order, so no partition is probed through another index that
                -- leads with tenant (a day still filling looks empty to the
                -- planner, and every index looks as cheap).
                (
                    SELECT dr.ts, dr.id, dr.preset, dr.problems FROM devdiag.diag_run AS dr
                    WHERE NOT v_scan AND dr.tenant = a.tenant AND dr.target_hash = a.target_hash AND dr.ts >= a.t0
                    ORDER BY dr.ts, dr.id
                )
                UNION ALL
                (
                    SELECT dr.ts, dr.id, dr.preset, dr.problems FROM devdiag.diag_run_archive AS dr
                    WHERE NOT v_scan AND dr.tenant = a.tenant AND dr.target_hash = a.target_hash AND dr.ts >= a.t0
                        AND a.t0 <= v_archive_max
                    ORDER BY dr.ts, dr.id
                )
                OFFSET 0
            ) AS d
        ) AS x
        ORDER BY 1, 2, 3, 4
    LOOP
        IF r.tk <> cur_tk THEN
            -- the previous target's episodes still open stay open
            FOR i IN 1..n LOOP
                m := m + 1;
                e_tk[m] := cur_tk; e_code[m] := oc[i]; e_preset[m] := op[i]; e_start[m] := os[i];
                e_last[m] := ol[i]; e_end[m] := NULL; e_sid[m] := oi[i]; e_eid[m] := NULL;
            END LOOP;
            n := 0; oc := '{}'::text[]; op := '{}'::text[]; os := '{}'::timestamptz[]; ol := '{}'::timestamptz[]; oi := '{}'::bigint[];
            cur_tk := r.tk;
        END IF;
        IF r.kind = 0 THEN
            n := n + 1;
            oc[n] := r.problem_code; op[n] := r.preset; os[n] := r.ts; ol[n] := r.last_seen; oi[n] := r.id;
            CONTINUE;
        END IF;
        -- A run of the episode's preset (or full) extends it if it reports the
        -- code and ends it otherwise; runs of another preset change nothing.
        IF n > 0 THEN
            k := 0;
            FOR i IN 1..n LOOP
                IF (r.preset = 'full' OR r.preset IS NOT DISTINCT FROM op[i]) AND NOT oc[i] = ANY (r.codes) THEN
                    m := m + 1;
                    e_tk[m] := cur_tk; e_code[m] := oc[i]; e_preset[m] := op[i]; e_start[m] := os[i];
                    e_last[m] := ol[i]; e_end[m] := r.ts; e_sid[m] := oi[i]; e_eid[m] := r.id;
                ELSE
                    k := k + 1;
                    IF r.preset = 'full' OR r.preset IS NOT DISTINCT FROM op[i] THEN
                        ol[i] := r.ts;
                    END IF;
                    IF k < i THEN
                        oc[k] := oc[i]; op[k] := op[i]; os[k] := os[i]; ol[k] := ol[i]; oi[k] := oi[i];
                    END IF;
                END IF;
            END LOOP;
            IF k < n THEN
                oc := oc[1:k]; op := op[1:k]; os := os[1:k]; ol := ol[1:k]; oi := oi[1:k];
                n := k;
            END IF;
        END IF;
        -- A reported code with no open episode opens one.
        FOREACH c IN ARRAY r.codes LOOP
            IF n = 0 OR NOT c = ANY (oc) THEN
                n := n + 1;
                oc[n] := c; op[n] := r.preset; os[n] := r.ts; ol[n] := r.ts; oi[n] := r.id;
            END IF;
        END LOOP;
    END LOOP;
    FOR i IN 1..n LOOP
        m := m + 1;
        e_tk[m] := cur_tk; e_code[m] := oc[i]; e_preset[m] := op[i]; e_start[m] := os[i];
        e_last[m] := ol[i]; e_end[m] := NULL; e_sid[m] := oi[i]; e_eid[m] := NULL;
    END LOOP;

    -- Replace what changed: episodes of these targets not ended before t0.
    WITH a AS (
        SELECT u.tenant, u.target_hash, u.t0, u.tk
        FROM unnest(a_tenant, a_target, a_from) WITH ORDINALITY AS u (tenant, target_hash, t0, tk)
    ),
    o AS (
        SELECT x.*
        FROM (
            SELECT unnest(o_tk) AS tk, unnest(o_code) AS code, unnest(o_preset) AS preset,
                unnest(o_start) AS started_at, unnest(o_last) AS last_seen, unnest(o_end) AS resolved_at,
                unnest(o_sid) AS sid, unnest(o_eid) AS eid, unnest(o_ttr) AS ttr, unnest(o_no) AS no,
                unnest(o_prev) AS prev
        ) AS x
    ),
    old AS (
        SELECT a.tenant, a.target_hash, x.code AS problem_code, x.preset, x.started_at, x.last_seen,
            x.resolved_at, x.sid AS start_run_id, x.eid AS end_run_id, x.ttr AS ttr_days, x.no AS episode_no,
            x.prev AS prev_started_at
        FROM o AS x
        INNER JOIN a ON x.tk = a.tk
    ),
    ne AS (
        SELECT
            x.*,
            row_number() OVER w AS rn,
            lag(x.started_at) OVER w AS prev_in
        FROM (
            SELECT unnest(e_tk) AS tk, unnest(e_code) AS code, unnest(e_preset) AS preset,
                unnest(e_start) AS started_at, unnest(e_last) AS last_seen, unnest(e_end) AS resolved_at,
                unnest(e_sid) AS sid, unnest(e_eid) AS eid
        ) AS x
        WINDOW w AS (PARTITION BY x.tk, x.code ORDER BY x.started_at, x.sid)
    ),
    -- the number and start of the last episode ended before t0 (the stored
    -- episodes after t0 are numbered on from it and the first of them keeps
    -- its start, or else one probe finds it)
    base AS (
        SELECT
            k.tk, k.code,
            coalesce(m.n0, p.episode_no, 0) AS n0,
            CASE WHEN m.tk IS NOT NULL THEN m.prev0 ELSE p.started_at END AS prev0
        FROM (SELECT DISTINCT ne.tk, ne.code FROM ne) AS k
        INNER JOIN a ON k.tk = a.tk
        LEFT JOIN (
            SELECT o.tk, o.code, min(o.no) - 1 AS n0, (array_agg(o.prev ORDER BY o.no))[1] AS prev0
            FROM o
            GROUP BY o.tk, o.code
        ) AS m ON k.tk = m.tk AND k.code = m.code
        LEFT JOIN LATERAL (
            SELECT p.episode_no, p.started_at FROM devdiag_rollup.rollup_ttr_episode AS p
            WHERE m.tk IS NULL
                AND p.tenant = a.tenant AND p.target_hash = a.target_hash AND p.problem_code = k.code
                AND coalesce(p.resolved_at, 'infinity') < a.t0
            ORDER BY p.started_at DESC, p.start_run_id DESC
            LIMIT 1
        ) AS p ON TRUE
    ),
    new AS (
        SELECT a.tenant, a.target_hash, x.code, x.preset, x.started_at, x.last_seen, x.resolved_at,
            x.sid, x.eid, devdiag.utc_day(x.resolved_at) - devdiag.utc_day(x.started_at),
            (b.n0 + x.rn)::integer,
            CASE WHEN x.rn = 1 THEN b.prev0 ELSE x.prev_in END
        FROM ne AS x
        INNER JOIN a ON x.tk = a.tk
        INNER JOIN base AS b ON x.tk = b.tk AND x.code = b.code
    ),
    g AS (
        SELECT -1 AS sign, d.* FROM (SELECT * FROM old EXCEPT ALL SELECT * FROM new) AS d
        UNION ALL
        SELECT 1, d.* FROM (SELECT * FROM new EXCEPT ALL SELECT * FROM old) AS d
    )
    SELECT array_agg(g.sign), array_agg(g.tenant), array_agg(g.target_hash), array_agg(g.problem_code),
        array_agg(g.preset), array_agg(g.started_at), array_agg(g.last_seen), array_agg(g.resolved_at),
        array_agg(g.start_run_id), array_agg(g.end_run_id), array_agg(g.ttr_days), array_agg(g.episode_no),
        array_agg(g.prev_started_at)
    INTO g_sign, g_tenant, g_target, g_code, g_preset, g_start, g_last, g_end, g_sid, g_eid, g_ttr, g_no, g_prev
    FROM g;
    IF g_sign IS NULL THEN
        RETURN 0;
    END IF;
    v_changed := cardinality(g_sign);

    -- An episode that only moved on (new last_seen, now resolved, renumbered,
    -- another previous episode) keeps its key: update it in place; the others go or come.
    WITH g AS MATERIALIZED (
        SELECT
            g.*,
            count(*) OVER (
                PARTITION BY g.tenant, g.target_hash, g.problem_code, g.started_at, g.start_run_id
            ) = 2 AS paired
        FROM (
            SELECT unnest(g_sign) AS sign, unnest(g_tenant) AS tenant, unnest(g_target) AS target_hash,
                unnest(g_code) AS problem_code, unnest(g_preset) AS preset, unnest(g_start) AS started_at,
                unnest(g_last) AS last_seen, unnest(g_end) AS resolved_at, unnest(g_sid) AS start_run_id,
                unnest(g_eid) AS end_run_id, unnest(g_ttr) AS ttr_days, unnest(g_no) AS episode_no,
                unnest(g_prev) AS prev_started_at
        ) AS g
    ),
    upd AS (
        UPDATE devdiag_rollup.rollup_ttr_episode AS e
        SET preset = m.preset, last_seen = m.last_seen, resolved_at = m.resolved_at,
            end_run_id = m.end_run_id, ttr_days = m.ttr_days, episode_no = m.episode_no,
            prev_started_at = m.prev_started_at
        FROM g AS m
        WHERE m.sign = 1 AND m.paired
            AND e.tenant = m.tenant AND e.target_hash = m.target_hash AND e.problem_code = m.problem_code
            AND e.started_at = m.started_at AND e.start_run_id = m.start_run_id
    ),
    del AS (
        DELETE FROM devdiag_rollup.rollup_ttr_episode AS e
        USING g
        WHERE g.sign = -1 AND NOT g.paired
            AND e.tenant = g.tenant AND e.target_hash = g.target_hash AND e.problem_code = g.problem_code
            AND e.started_at = g.started_at AND e.start_run_id = g.start_run_id
    )
    INSERT INTO devdiag_rollup.rollup_ttr_episode (
        tenant, target_hash, problem_code, preset, started_at, last_seen, resolved_at,
        start_run_id, end_run_id, ttr_days, episode_no, prev_started_at
    )
    SELECT g.tenant, g.target_hash, g.problem_code, g.preset, g.started_at, g.last_seen, g.resolved_at,
        g.start_run_id, g.end_run_id, g.ttr_days, g.episode_no, g.prev_started_at
    FROM g
    WHERE g.sign = 1 AND NOT g.paired;

    -- Episodes per day and resolved per day move by the same rows.
    PERFORM devdiag.rollup_episode_day_apply(g_tenant, g_code, g_start, g_end, g_no, g_prev, g_sign);

    -- Histogram and per-problem statistics move by the episodes that changed.
    WITH g AS (
        SELECT *
        FROM (
            SELECT unnest(g_sign) AS sign, unnest(g_tenant) AS tenant, unnest(g_code) AS problem_code,
                unnest(g_end) AS resolved_at, unnest(g_ttr) AS ttr_days
        ) AS g
    ),
    up_hist AS (
        INSERT INTO devdiag_rollup.rollup_ttr_histogram AS h (tenant, problem_code, ttr_days, episodes)
        SELECT g.tenant, g.problem_code, g.ttr_days, sum(g.sign)
        FROM g
        WHERE g.ttr_days IS NOT NULL
        GROUP BY 1, 2, 3
        HAVING sum(g.sign) <> 0
        ORDER BY 1, 2, 3
        ON CONFLICT (tenant, problem_code, ttr_days) DO UPDATE SET episodes = h.episodes + excluded.episodes
        RETURNING h.tenant, h.problem_code, h.ttr_days, h.episodes
    ),
    up_stat AS (
        INSERT INTO devdiag_rollup.rollup_episode_stat AS s (
            tenant, problem_code, open_episodes, resolved_episodes, ttr_days_sum
        )
        SELECT
            g.tenant, g.problem_code,
            coalesce(sum(g.sign) FILTER (WHERE g.resolved_at IS NULL), 0),
            coalesce(sum(g.sign) FILTER (WHERE g.resolved_at IS NOT NULL), 0),
            coalesce(sum(g.sign * g.ttr_days), 0)
        FROM g
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (tenant, problem_code) DO UPDATE
        SET open_episodes = s.open_episodes + excluded.open_episodes,
            resolved_episodes = s.resolved_episodes + excluded.resolved_episodes,
            ttr_days_sum = s.ttr_days_sum + excluded.ttr_days_sum
        RETURNING s.tenant, s.problem_code, s.open_episodes + s.resolved_episodes AS episodes
    )
    SELECT
        (SELECT array_agg(x.tenant) FROM up_hist AS x WHERE x.episodes = 0),
        (SELECT array_agg(x.problem_code) FROM up_hist AS x WHERE x.episodes = 0),
        (SELECT array_agg(x.ttr_days) FROM up_hist AS x WHERE x.episodes = 0),
        (SELECT array_agg(x.tenant) FROM up_stat AS x WHERE x.episodes = 0),
        (SELECT array_agg(x.problem_code) FROM up_stat AS x WHERE x.episodes = 0)
    INTO z_hist_tenant, z_hist_code, z_hist_ttr, z_stat_tenant, z_stat_code;
    IF z_hist_tenant IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_ttr_histogram AS h
        USING unnest(z_hist_tenant, z_hist_code, z_hist_ttr) AS z (tenant, problem_code, ttr_days)
        WHERE h.tenant = z.tenant AND h.problem_code = z.problem_code AND h.ttr_days = z.ttr_days
            AND h.episodes = 0;
    END IF;
    IF z_stat_tenant IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_episode_stat AS s
        USING unnest(z_stat_tenant, z_stat_code) AS z (tenant, problem_code)
        WHERE s.tenant = z.tenant AND s.problem_code = z.problem_code
            AND s.open_episodes = 0 AND s.resolved_episodes = 0;
    END IF;
    RETURN v_changed;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_recompute_episodes(text[], text[], timestamptz[], boolean[]) IS
'Replays remediation episodes of the given targets from the given times on (seeded with the episodes open then; '
'p_reports: whether the changed run reports a problem) '
'and applies the difference to rollup_ttr_episode, rollup_ttr_histogram, rollup_episode_stat, rollup_episode_day, '
'rollup_resolved_day and rollup_recurrence_day; returns the episode rows changed.';

-- Why: an episode depends only on the runs of its own target, so a refresh
-- replays the episodes of the targets it touched from the earliest ts it
-- brought: devdiag.rollup_recompute_episodes (above) is the fold of targets,
-- called once per refresh whatever the number of batches. The replay reads
-- the raw runs, so it is the same whether runs came in or left. The episode
-- rollups (statistics, histogram, per day, resolved per day) move with the
-- episodes the replay changes, in the same call. (Earlier forward-only
-- wrappers of it go.)
DROP FUNCTION IF EXISTS devdiag.fold_ttr_episodes(text[], timestamptz[], text[], text[], jsonb[], integer[]),
devdiag.fold_ttr_episodes(text[], text[], timestamptz[], boolean[]);

SELECT devdiag.rollup_register(
    'ttr_episodes', 200, 'run_targets', 'devdiag.rollup_recompute_episodes',
    'rollup_ttr_episode, rollup_ttr_histogram, rollup_episode_stat, rollup_episode_day, rollup_resolved_day, '
    'rollup_recurrence_day, rollup_ttr_block'
);

-- A warehouse that had episodes before rollup_recurrence_day existed fills
-- it from them once (every episode counts on its start day, so episodes and
-- an empty rollup mean it was never filled).
SELECT
    devdiag.rollup_recurrence_day_apply(
        array_agg(e.tenant), array_agg(e.problem_code), array_agg(e.started_at), array_agg(e.episode_no),
        array_agg(e.prev_started_at), array_agg(1)
    )
FROM devdiag_rollup.rollup_ttr_episode AS e
-- (checked once, before the scan: a filled rollup costs the next migrate nothing)
WHERE NOT EXISTS (SELECT FROM devdiag_rollup.rollup_recurrence_day)
HAVING count(*) > 0;

-- The same for rollup_ttr_block (every resolved episode counts in it).
SELECT
    devdiag.rollup_ttr_block_apply(
        array_agg(e.tenant), array_agg(e.problem_code), array_agg(e.started_at), array_agg(e.resolved_at),
        array_agg(1)
    )
FROM devdiag_rollup.rollup_ttr_episode AS e
WHERE e.resolved_at IS NOT NULL AND NOT EXISTS (SELECT FROM devdiag_rollup.rollup_ttr_block)
HAVING count(*) > 0;
