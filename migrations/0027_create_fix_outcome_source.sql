-- Why: SQLite keeps a running support total per pair and overwrites it in
-- place; remembering what each source last reported lets the sync add only
-- the growth to fix_outcome (never the whole total again) and tell when a
-- pair was last credited, while several sources feed one pair.
-- depends: 0026_constrain_runs_source_identity_unique
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.fix_outcome_source (
    id bigint GENERATED ALWAYS AS IDENTITY,
    tenant text NOT NULL,
    source_id bigint NOT NULL,
    problem_code text NOT NULL,
    fix_code text NOT NULL,
    env_fp text,
    support bigint NOT NULL,
    confidence double precision NOT NULL,
    notes text,
    sqlite_id bigint NOT NULL,
    first_credited_at timestamptz NOT NULL,
    last_credited_at timestamptz NOT NULL,
    synced_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fix_outcome_source_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT fix_outcome_source_pair_unique
    UNIQUE NULLS NOT DISTINCT (tenant, source_id, problem_code, fix_code, env_fp),
    CONSTRAINT fix_outcome_source_source_fkey FOREIGN KEY (source_id) REFERENCES devdiag.sync_source (id),
    CONSTRAINT fix_outcome_source_tenant_not_empty CHECK (tenant <> ''),
    CONSTRAINT fix_outcome_source_problem_code_not_empty CHECK (problem_code <> ''),
    CONSTRAINT fix_outcome_source_fix_code_not_empty CHECK (fix_code <> ''),
    CONSTRAINT fix_outcome_source_confidence_in_unit_interval CHECK (confidence BETWEEN 0 AND 1),
    CONSTRAINT fix_outcome_source_support_not_negative CHECK (support >= 0)
);

COMMENT ON TABLE devdiag.fix_outcome_source IS
'What each SQLite store last reported per fix outcome pair; fix_outcome receives only the changes.';
COMMENT ON COLUMN devdiag.fix_outcome_source.support IS 'The source''s running support total at its last sync.';
COMMENT ON COLUMN devdiag.fix_outcome_source.confidence IS 'The source''s confidence at its last sync.';
COMMENT ON COLUMN devdiag.fix_outcome_source.sqlite_id IS 'fix_outcome.id in the SQLite store (the highest, if NULL env_fp duplicates were merged).';
COMMENT ON COLUMN devdiag.fix_outcome_source.first_credited_at IS 'The SQLite ts of the pair: its first credit.';
COMMENT ON COLUMN devdiag.fix_outcome_source.last_credited_at IS
'When the support last grew: the first credit when first seen, else the time of the sync that saw it grow.';
