-- Why: a run dated far in the future would stay the newest run for good and
-- silence every freshness check and the no-recent-runs alert; writers and
-- the sync refuse runs later than the warehouse's clock plus this skew.
-- depends: 0081_validate_row_limits
SET lock_timeout = '5s';
SET statement_timeout = '60s';

INSERT INTO devdiag.settings (key, value, description) VALUES
(
    'max_future_minutes', '5',
    'Runs dated more than this many minutes after the warehouse''s clock are refused (clock skew allowed).'
)
ON CONFLICT (key) DO NOTHING;
