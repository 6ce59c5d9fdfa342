-- Why: two rollups hold two counts per tenant and UTC day, each moved by a
-- fold in sql/rollups (rollup_tenant_day by the run counts, rollup_resolved_day
-- by the episode replay's changed episodes). Both add signed amounts to their days in
-- key order (so concurrent writers never deadlock) and drop the days whose
-- counts are back to zero, as a count over raw rows would have no row there;
-- this does it for either. The table and columns are fixed by the callers.
CREATE OR REPLACE FUNCTION devdiag.rollup_add_per_tenant_day(
    p_table regclass,
    p_columns text[],
    p_tenant text[],
    p_day date[],
    p_first bigint[],
    p_second bigint[]
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    z_tenant text[];
    z_day date[];
BEGIN
    EXECUTE format($sql$
        WITH up AS (
            INSERT INTO %1$s AS d (tenant, day, %2$I, %3$I)
            SELECT g.tenant, g.day, sum(g.first), sum(g.second)
            FROM unnest($1, $2, $3, $4) AS g (tenant, day, first, second)
            GROUP BY 1, 2
            HAVING sum(g.first) <> 0 OR sum(g.second) <> 0
            ORDER BY 1, 2
            ON CONFLICT (tenant, day) DO UPDATE
            SET %2$I = d.%2$I + excluded.%2$I, %3$I = d.%3$I + excluded.%3$I
            RETURNING d.tenant, d.day, d.%2$I AS first, d.%3$I AS second
        ),
        zero AS (
            SELECT up.tenant, up.day FROM up WHERE up.first = 0 AND up.second = 0
        )
        SELECT array_agg(zero.tenant), array_agg(zero.day) FROM zero
    $sql$, p_table, p_columns[1], p_columns[2])
    INTO z_tenant, z_day
    USING p_tenant, p_day, p_first, p_second;
    IF z_tenant IS NOT NULL THEN
        EXECUTE format($sql$
            DELETE FROM %1$s AS d
            USING unnest($1, $2) AS z (tenant, day)
            WHERE d.tenant = z.tenant AND d.day = z.day AND d.%2$I = 0 AND d.%3$I = 0
        $sql$, p_table, p_columns[1], p_columns[2])
        USING z_tenant, z_day;
    END IF;
END;
$$;

COMMENT ON FUNCTION devdiag.rollup_add_per_tenant_day(regclass, text[], text[], date[], bigint[], bigint[]) IS
'Adds signed amounts to the two count columns of a per-tenant-and-day rollup (rollup_tenant_day, rollup_resolved_day) '
'and drops the days back to zero; called by their triggers.';
