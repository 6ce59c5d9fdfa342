-- Why: one schema owns the warehouse, and policy knobs (retention, evidence
-- keys, learning parameters) live in a table so a change needs no redeploy.
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE SCHEMA devdiag;

COMMENT ON SCHEMA devdiag IS
'DevDiag analytics warehouse: diagnostic runs, learned fix outcomes and the analytics views built on them.';

CREATE TABLE devdiag.settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    description text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT settings_key_not_empty CHECK (key <> '')
);

COMMENT ON TABLE devdiag.settings IS
'Operational policy read by jobs and scripts at run time (retention, privacy, learning parameters).';

INSERT INTO devdiag.settings (key, value, description) VALUES
('retention_days', '180', 'Runs older than this many days move from diag_run to diag_run_archive.'),
('keep_evidence_keys', '["csp", "xfo", "framework", "server", "routes"]', 'Evidence keys kept on ingest; all others are dropped.'),
('min_support', '2', 'Learning: minimum support before a fix is trusted.'),
('alpha', '0.6', 'Learning: confidence smoothing factor alpha.'),
('beta', '0.7', 'Learning: confidence decay factor beta.');
