-- Why: retention needs a batch size and an optional archive purge age
-- (off by default), and operators need to see that jobs actually ran.
-- depends: 0004_create_diag_run_archive
SET lock_timeout = '5s';
SET statement_timeout = '60s';

INSERT INTO devdiag.settings (key, value, description) VALUES
(
    'archive_purge_days', 'null',
    'Archived runs (and fix outcomes last credited) older than this many days are deleted; null = never.'
),
('retention_batch_size', '10000', 'Rows moved or purged per transaction by the retention job.');

CREATE TABLE devdiag.job_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    rows_archived bigint NOT NULL DEFAULT 0,
    rows_purged bigint NOT NULL DEFAULT 0,
    detail text
);

COMMENT ON TABLE devdiag.job_log IS
'One row per completed maintenance job run (retention); holds counts only, no tenant data.';

-- squawk-ignore require-concurrent-index-creation -- table is new in this step
CREATE INDEX job_log_job_finished_idx ON devdiag.job_log (job, finished_at DESC);
