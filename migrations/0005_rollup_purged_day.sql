-- Why: purging an archive day detaches and drops its partition; taking its
-- runs out of the rollups (and replaying the episodes of its targets) grows
-- with their history, and held the archive's exclusive lock all along. The
-- purge now detaches the day, keeps it aside under another name and records
-- it here; the next all-tenant refresh takes its runs out of the rollups and
-- drops it. The watermarks are recorded with it: they say which of its runs
-- the rollups held when it left the archive.
SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE TABLE devdiag_rollup.rollup_purged_day (
    part regclass NOT NULL,
    day date NOT NULL,
    runs bigint NOT NULL,
    folded_through bigint NOT NULL,
    tenant_folded jsonb NOT NULL,
    purged_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rollup_purged_day_pkey PRIMARY KEY (part)
);

COMMENT ON TABLE devdiag_rollup.rollup_purged_day IS
'Archive days purged whose runs the next all-tenant refresh takes out of the rollups: the table they were kept '
'under (schema devdiag_part), the all-tenant and per-tenant watermarks when they were purged.';
