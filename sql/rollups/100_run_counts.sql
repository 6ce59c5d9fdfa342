-- Why: the count rollups change by exactly the runs a statement added (+1) or
-- removed (-1), in live or archive alike (the views count both), so one
-- aggregation of the statement's rows keeps them equal to a count over the
-- raw runs; rows that reach zero are deleted, as a count over raw runs would
-- have no row there. Upserts go in key order so concurrent writers never
-- deadlock on them.
-- The batch's arrays are read by unnest in the select list, which streams
-- them; unnest in FROM would copy every element into a tuplestore first.
CREATE OR REPLACE FUNCTION devdiag.rollup_count_runs(
    p_tenant text[],
    p_ts timestamptz[],
    p_env text[],
    p_problems jsonb[],
    p_sign integer[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    z_hour_tenant text[];
    z_hour timestamptz[];
    z_total text[];
    z_day_tenant text[];
    z_day date[];
    z_day_code text[];
    z_env_tenant text[];
    z_env_code text[];
    z_env text[];
    z_tot_tenant text[];
    z_tot_code text[];
    d_tenant text[];
    d_day date[];
    d_runs bigint[];
    d_problem_runs bigint[];
BEGIN
    IF p_tenant IS NULL THEN
        RETURN;
    END IF;

    -- Runs per tenant and UTC hour; per tenant and UTC day, and per tenant,
    -- from those hours (a UTC day is whole hours).
    WITH h AS (
        SELECT
            u.tenant,
            date_bin('1 hour', u.ts, '2000-01-01 00:00:00+00'::timestamptz) AS hour,
            sum(u.sign) AS runs,
            coalesce(sum(u.sign) FILTER (WHERE jsonb_array_length(u.problems) > 0), 0) AS problem_runs
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_ts) AS ts, unnest(p_problems) AS problems,
                unnest(p_sign) AS sign
        ) AS u
        GROUP BY 1, 2
    ),
    t AS (
        SELECT h.tenant, sum(h.runs)::bigint AS runs, sum(h.problem_runs)::bigint AS problem_runs
        FROM h
        GROUP BY 1
    ),
    d AS (
        SELECT h.tenant, devdiag.utc_day(h.hour) AS day, sum(h.runs)::bigint AS runs,
            sum(h.problem_runs)::bigint AS problem_runs
        FROM h
        GROUP BY 1, 2
    ),
    up_hour AS (
        INSERT INTO devdiag_rollup.rollup_tenant_hour AS r (tenant, hour, runs, problem_runs)
        SELECT h.tenant, h.hour, h.runs, h.problem_runs
        FROM h
        WHERE h.runs <> 0 OR h.problem_runs <> 0
        ORDER BY h.tenant, h.hour
        ON CONFLICT (tenant, hour) DO UPDATE
        SET runs = r.runs + excluded.runs, problem_runs = r.problem_runs + excluded.problem_runs
        RETURNING r.tenant, r.hour, r.runs
    ),
    up_total AS (
        INSERT INTO devdiag_rollup.rollup_tenant_total AS r (tenant, runs, problem_runs)
        SELECT t.tenant, t.runs, t.problem_runs
        FROM t
        WHERE t.runs <> 0 OR t.problem_runs <> 0
        ORDER BY t.tenant
        ON CONFLICT (tenant) DO UPDATE
        SET runs = r.runs + excluded.runs, problem_runs = r.problem_runs + excluded.problem_runs
        RETURNING r.tenant, r.runs
    )
    SELECT
        (SELECT array_agg(x.tenant) FROM up_hour AS x WHERE x.runs = 0),
        (SELECT array_agg(x.hour) FROM up_hour AS x WHERE x.runs = 0),
        (SELECT array_agg(x.tenant) FROM up_total AS x WHERE x.runs = 0),
        days.tenants, days.days, days.runs, days.problem_runs
    INTO z_hour_tenant, z_hour, z_total, d_tenant, d_day, d_runs, d_problem_runs
    FROM (
        SELECT array_agg(d.tenant) AS tenants, array_agg(d.day) AS days, array_agg(d.runs) AS runs,
            array_agg(d.problem_runs) AS problem_runs
        FROM d
        WHERE d.runs <> 0 OR d.problem_runs <> 0
    ) AS days;
    IF d_tenant IS NOT NULL THEN
        PERFORM devdiag.rollup_add_per_tenant_day(
            'devdiag_rollup.rollup_tenant_day', '{runs,problem_runs}', d_tenant, d_day, d_runs, d_problem_runs
        );
    END IF;

    -- Runs per UTC day and code, per code and environment, per code (a run
    -- listing a code twice counts once). Runs of a tenant with the same list
    -- on the same day (or in the same environment) count together: each
    -- distinct list is taken apart once, not once per run.
    WITH b AS (
        SELECT u.tenant, devdiag.utc_day(u.ts) AS day, u.problems, sum(u.sign) AS runs
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_ts) AS ts, unnest(p_problems) AS problems,
                unnest(p_sign) AS sign
        ) AS u
        WHERE jsonb_array_length(u.problems) > 0
        GROUP BY 1, 2, 3
    ),
    bp AS (
        SELECT b.tenant, b.day, x.code, b.runs
        FROM b
        CROSS JOIN LATERAL (SELECT DISTINCT y.code FROM jsonb_array_elements_text(b.problems) AS y (code)) AS x
    ),
    day_delta AS (
        SELECT bp.tenant, bp.day, bp.code, sum(bp.runs)::bigint AS runs
        FROM bp
        GROUP BY 1, 2, 3
        HAVING sum(bp.runs) <> 0
    ),
    code_delta AS (
        SELECT bp.tenant, bp.code, sum(bp.runs)::bigint AS runs
        FROM bp
        GROUP BY 1, 2
    ),
    -- (planned apart from the rest, this grouping is hashed; planned inline,
    -- the estimate for the codes taken apart below makes the planner sort the
    -- batch by its lists first)
    e AS MATERIALIZED (
        SELECT u.tenant, u.env_fp, u.problems, sum(u.sign) AS runs
        FROM (
            SELECT unnest(p_tenant) AS tenant, unnest(p_env) AS env_fp, unnest(p_problems) AS problems,
                unnest(p_sign) AS sign
        ) AS u
        WHERE u.env_fp IS NOT NULL AND jsonb_array_length(u.problems) > 0
        GROUP BY 1, 2, 3
    ),
    env_delta AS (
        SELECT e.tenant, x.code, e.env_fp, sum(e.runs)::bigint AS runs
        FROM e
        CROSS JOIN LATERAL (SELECT DISTINCT y.code FROM jsonb_array_elements_text(e.problems) AS y (code)) AS x
        GROUP BY 1, 2, 3
        HAVING sum(e.runs) <> 0
    ),
    up_day AS (
        INSERT INTO devdiag_rollup.rollup_problem_day AS r (tenant, day, problem_code, runs)
        SELECT d.tenant, d.day, d.code, d.runs
        FROM day_delta AS d
        ORDER BY d.tenant, d.day, d.code
        ON CONFLICT (tenant, day, problem_code) DO UPDATE SET runs = r.runs + excluded.runs
        RETURNING r.tenant, r.day, r.problem_code, r.runs
    ),
    up_env AS (
        INSERT INTO devdiag_rollup.rollup_problem_env AS r (tenant, problem_code, env_fp, runs)
        SELECT d.tenant, d.code, d.env_fp, d.runs
        FROM env_delta AS d
        ORDER BY d.tenant, d.code, d.env_fp
        ON CONFLICT (tenant, problem_code, env_fp) DO UPDATE SET runs = r.runs + excluded.runs
        RETURNING r.tenant, r.problem_code, r.env_fp, r.runs
    ),
    -- An environment appears when its count leaves zero and goes when it reaches zero.
    env_change AS (
        SELECT
            u.tenant,
            u.problem_code,
            count(*) FILTER (WHERE u.runs > 0 AND u.runs = d.runs)
            - count(*) FILTER (WHERE u.runs = 0) AS environments
        FROM up_env AS u
        INNER JOIN env_delta AS d
            ON u.tenant = d.tenant AND u.problem_code = d.code AND u.env_fp = d.env_fp
        GROUP BY 1, 2
    ),
    tot_delta AS (
        SELECT c.tenant, c.code AS problem_code, coalesce(e.environments, 0) AS environments, c.runs
        FROM code_delta AS c
        LEFT JOIN env_change AS e ON c.tenant = e.tenant AND c.code = e.problem_code
    ),
    up_tot AS (
        INSERT INTO devdiag_rollup.rollup_problem_total AS r (tenant, problem_code, unique_environments, total_runs)
        SELECT d.tenant, d.problem_code, d.environments, d.runs
        FROM tot_delta AS d
        WHERE d.environments <> 0 OR d.runs <> 0
        ORDER BY d.tenant, d.problem_code
        ON CONFLICT (tenant, problem_code) DO UPDATE
        SET unique_environments = r.unique_environments + excluded.unique_environments,
            total_runs = r.total_runs + excluded.total_runs
        RETURNING r.tenant, r.problem_code, r.total_runs
    )
    SELECT
        (SELECT array_agg(x.tenant) FROM up_day AS x WHERE x.runs = 0),
        (SELECT array_agg(x.day) FROM up_day AS x WHERE x.runs = 0),
        (SELECT array_agg(x.problem_code) FROM up_day AS x WHERE x.runs = 0),
        (SELECT array_agg(x.tenant) FROM up_env AS x WHERE x.runs = 0),
        (SELECT array_agg(x.problem_code) FROM up_env AS x WHERE x.runs = 0),
        (SELECT array_agg(x.env_fp) FROM up_env AS x WHERE x.runs = 0),
        (SELECT array_agg(x.tenant) FROM up_tot AS x WHERE x.total_runs = 0),
        (SELECT array_agg(x.problem_code) FROM up_tot AS x WHERE x.total_runs = 0)
    INTO z_day_tenant, z_day, z_day_code, z_env_tenant, z_env_code, z_env, z_tot_tenant, z_tot_code;

    -- A raw count has no row where nothing is left.
    IF z_hour_tenant IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_tenant_hour AS r
        USING unnest(z_hour_tenant, z_hour) AS z (tenant, hour)
        WHERE r.tenant = z.tenant AND r.hour = z.hour AND r.runs = 0;
    END IF;
    IF z_total IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_tenant_total AS r
        WHERE r.tenant = ANY (z_total) AND r.runs = 0;
    END IF;
    IF z_day_tenant IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_problem_day AS r
        USING unnest(z_day_tenant, z_day, z_day_code) AS z (tenant, day, code)
        WHERE r.tenant = z.tenant AND r.day = z.day AND r.problem_code = z.code AND r.runs = 0;
    END IF;
    IF z_env_tenant IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_problem_env AS r
        USING unnest(z_env_tenant, z_env_code, z_env) AS z (tenant, code, env_fp)
        WHERE r.tenant = z.tenant AND r.problem_code = z.code AND r.env_fp = z.env_fp AND r.runs = 0;
    END IF;
    IF z_tot_tenant IS NOT NULL THEN
        DELETE FROM devdiag_rollup.rollup_problem_total AS r
        USING unnest(z_tot_tenant, z_tot_code) AS z (tenant, code)
        WHERE r.tenant = z.tenant AND r.problem_code = z.code AND r.total_runs = 0;
    END IF;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_count_runs(text[], timestamptz[], text[], jsonb[], integer[]) IS
'Applies runs added (sign 1) or removed (sign -1) to the count rollups '
'(tenant hour, day and total, problem day, environment and total); called by the run_counts fold.';

-- Why: the count rollups move by exactly the runs folded in (+1) or taken
-- out by a purge (-1); devdiag.rollup_count_runs (above) does all
-- five in one pass over the batch.
CREATE OR REPLACE FUNCTION devdiag.fold_run_counts(
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
SELECT devdiag.rollup_count_runs(p_tenant, p_ts, p_env, p_problems, p_sign);
$$;

COMMENT ON FUNCTION devdiag.fold_run_counts(text[], timestamptz[], text[], text[], jsonb[], integer[]) IS
'Rollup fold run_counts: adds a batch of runs (sign 1) to, or takes them (sign -1) out of, the count rollups.';

SELECT devdiag.rollup_register(
    'run_counts', 100, 'runs', 'devdiag.fold_run_counts',
    'rollup_tenant_hour, rollup_tenant_day, rollup_tenant_total, rollup_problem_day, rollup_problem_env, '
    'rollup_problem_total'
);
