-- Why: the rollups were kept by statement triggers with transition tables on
-- the run and fix outcome tables, so every insert paid for the rollups in its
-- own statement and the design could not run where such triggers cannot
-- (distributed tables). From this step every run and fix outcome carries an
-- ingest id from one sequence, and devdiag.refresh_rollups() folds the rows
-- above a watermark into the rollups in one set-based pass (the sync calls it
-- before it exits, pg_cron every minute). Rows already here get ingest id 0,
-- at or below the starting watermark; whether the rollups hold them cannot be
-- told from here (a warehouse rolled back and written without triggers), so
-- when there are any, the rollups are rebuilt once, as migrate re-applies
-- sql/ (sql/functions/595). A BRIN
-- index finds the rows above the watermark in each day partition at almost no
-- cost to ingest. Rolling back below this step needs the code of step 0086
-- (its sql/ files attach the old triggers).
-- depends: 0086_create_lock_slot
-- The run tables gain a column with a constant default (no rewrite) and a BRIN index built under the step's lock:
-- squawk-ignore-file require-concurrent-index-creation, ban-drop-function, adding-required-field
-- A fold's position in the registry (a few rows) is an integer:
-- squawk-ignore-file prefer-bigint-over-int
SET lock_timeout = '5s';
SET statement_timeout = '0';

LOCK TABLE devdiag.diag_run, devdiag.diag_run_archive, devdiag.fix_outcome, devdiag.rollup_ttr_episode,
devdiag.rollup_tenant_hour, devdiag.rollup_episode_day IN ACCESS EXCLUSIVE MODE;

DROP TRIGGER IF EXISTS rollup_after_insert ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_update ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_delete ON devdiag.diag_run;
DROP TRIGGER IF EXISTS rollup_after_insert ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_update ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_delete ON devdiag.diag_run_archive;
DROP TRIGGER IF EXISTS rollup_after_insert ON devdiag.fix_outcome;
DROP TRIGGER IF EXISTS rollup_after_update ON devdiag.fix_outcome;
DROP TRIGGER IF EXISTS rollup_after_delete ON devdiag.fix_outcome;
DROP FUNCTION IF EXISTS devdiag.rollup_runs_trigger();
DROP FUNCTION IF EXISTS devdiag.rollup_fix_trigger();
-- The rollups kept from other rollups are folded with them (their triggers read transition tables too).
DROP TRIGGER IF EXISTS episode_day_after_insert ON devdiag.rollup_ttr_episode;
DROP TRIGGER IF EXISTS episode_day_after_update ON devdiag.rollup_ttr_episode;
DROP TRIGGER IF EXISTS episode_day_after_delete ON devdiag.rollup_ttr_episode;
DROP TRIGGER IF EXISTS tenant_day_after_insert ON devdiag.rollup_tenant_hour;
DROP TRIGGER IF EXISTS tenant_day_after_update ON devdiag.rollup_tenant_hour;
DROP TRIGGER IF EXISTS tenant_day_after_delete ON devdiag.rollup_tenant_hour;
DROP TRIGGER IF EXISTS resolved_day_after_insert ON devdiag.rollup_episode_day;
DROP TRIGGER IF EXISTS resolved_day_after_update ON devdiag.rollup_episode_day;
DROP TRIGGER IF EXISTS resolved_day_after_delete ON devdiag.rollup_episode_day;
DROP FUNCTION IF EXISTS devdiag.rollup_episode_day_trigger();
DROP FUNCTION IF EXISTS devdiag.rollup_tenant_day_trigger();
DROP FUNCTION IF EXISTS devdiag.rollup_resolved_day_trigger();
DROP FUNCTION IF EXISTS devdiag.rollup_attach_statement_triggers(regclass, text, text);

CREATE SEQUENCE devdiag.ingest_seq AS bigint;
COMMENT ON SEQUENCE devdiag.ingest_seq IS
'Ingest ids of runs and fix outcomes, in the order they were written; the rollups are folded up to a watermark of it.';

ALTER TABLE devdiag.diag_run ADD COLUMN ingest_id bigint NOT NULL DEFAULT 0;
ALTER TABLE devdiag.diag_run ALTER COLUMN ingest_id SET DEFAULT nextval('devdiag.ingest_seq');
ALTER TABLE devdiag.diag_run_archive ADD COLUMN ingest_id bigint NOT NULL DEFAULT 0;
ALTER TABLE devdiag.diag_run_archive ALTER COLUMN ingest_id SET DEFAULT nextval('devdiag.ingest_seq');
ALTER TABLE devdiag.fix_outcome ADD COLUMN ingest_id bigint NOT NULL DEFAULT 0;
-- A fix outcome changes by upserts: every insert and update takes a new id,
-- whatever the writer supplied.
CREATE FUNCTION devdiag.stamp_ingest_id()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.ingest_id := nextval('devdiag.ingest_seq');
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION devdiag.stamp_ingest_id() IS
'Row trigger of fix_outcome: gives every inserted or updated row a new ingest id.';
CREATE TRIGGER fix_outcome_stamp BEFORE INSERT OR UPDATE ON devdiag.fix_outcome
FOR EACH ROW EXECUTE FUNCTION devdiag.stamp_ingest_id();

COMMENT ON COLUMN devdiag.diag_run.ingest_id IS
'When the run was written (devdiag.ingest_seq); the rollups hold every run up to the refresh watermark.';
COMMENT ON COLUMN devdiag.diag_run_archive.ingest_id IS
'The ingest id the run had in diag_run (a day keeps its rows when it is archived).';
COMMENT ON COLUMN devdiag.fix_outcome.ingest_id IS
'When the row was last written (devdiag.ingest_seq, set on every insert and update).';

-- Leads with tenant as every run index does; the refresh reads the ingest id range.
CREATE INDEX diag_run_ingest_brin ON devdiag.diag_run USING brin (tenant, ingest_id)
WITH (autosummarize = on);
CREATE INDEX diag_run_archive_ingest_brin ON devdiag.diag_run_archive USING brin (tenant, ingest_id)
WITH (autosummarize = on);
CREATE INDEX fix_outcome_ingest_brin ON devdiag.fix_outcome USING brin (tenant, ingest_id)
WITH (autosummarize = on);

CREATE TABLE devdiag.rollup_registry (
    name text NOT NULL,
    position integer NOT NULL,
    source text NOT NULL,
    fold text NOT NULL,
    keeps text NOT NULL,
    CONSTRAINT rollup_registry_pkey PRIMARY KEY (name),
    CONSTRAINT rollup_registry_position_key UNIQUE (position),
    CONSTRAINT rollup_registry_source_check CHECK (source IN ('runs', 'run_targets', 'fix_outcome'))
);
COMMENT ON TABLE devdiag.rollup_registry IS
'One row per rollup fold, written by its sql/rollups file; devdiag.refresh_rollups() calls the folds in position order.';

CREATE TABLE devdiag.rollup_refresh_state (
    only_row boolean NOT NULL DEFAULT TRUE,
    folded_through bigint NOT NULL,
    refreshed_at timestamptz NOT NULL,
    rebuild_pending boolean NOT NULL DEFAULT FALSE,
    CONSTRAINT rollup_refresh_state_pkey PRIMARY KEY (only_row),
    CONSTRAINT rollup_refresh_state_only_row_check CHECK (only_row)
);
COMMENT ON TABLE devdiag.rollup_refresh_state IS
'The watermark of the all-tenant refresh: every run and fix outcome with ingest_id at or below folded_through is in the rollups.';
INSERT INTO devdiag.rollup_refresh_state (folded_through, refreshed_at, rebuild_pending)
SELECT
    0 AS folded_through,
    now() AS refreshed_at,
    EXISTS (SELECT FROM devdiag.diag_run) OR EXISTS (SELECT FROM devdiag.diag_run_archive)
    OR EXISTS (SELECT FROM devdiag.fix_outcome) AS rebuild_pending;

-- A run updated or deleted after it was folded leaves the rollups through
-- this queue (sql/functions/580): its old version, with an ingest id of its
-- own, is taken out by the refresh that folds that id.
CREATE TABLE devdiag.rollup_run_change (
    tenant text NOT NULL,
    ingest_id bigint NOT NULL DEFAULT nextval('devdiag.ingest_seq'),
    ts timestamptz NOT NULL,
    target_hash text NOT NULL,
    env_fp text,
    problems jsonb NOT NULL,
    CONSTRAINT rollup_run_change_pkey PRIMARY KEY (tenant, ingest_id)
);
COMMENT ON TABLE devdiag.rollup_run_change IS
'Old versions of folded runs that were updated or deleted, waiting for the refresh to take them out of the rollups.';

-- A fix outcome updated or deleted: its (tenant, problem, fix) group is
-- recomputed by the refresh that folds the queued id.
CREATE TABLE devdiag.rollup_fix_change (
    tenant text NOT NULL,
    ingest_id bigint NOT NULL DEFAULT nextval('devdiag.ingest_seq'),
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    CONSTRAINT rollup_fix_change_pkey PRIMARY KEY (tenant, ingest_id)
);
COMMENT ON TABLE devdiag.rollup_fix_change IS
'Fix groups a changed or deleted fix outcome left, waiting for the refresh to recompute them.';

CREATE TABLE devdiag.rollup_tenant_watermark (
    tenant text NOT NULL,
    folded_through bigint NOT NULL,
    refreshed_at timestamptz NOT NULL,
    CONSTRAINT rollup_tenant_watermark_pkey PRIMARY KEY (tenant)
);
COMMENT ON TABLE devdiag.rollup_tenant_watermark IS
'Watermarks of tenants refreshed on their own past the all-tenant watermark; rows at or below it are removed.';
