-- Why: undo the future-run setting (the trigger that reads it falls back to its default).
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DELETE FROM devdiag.settings
WHERE key = 'max_future_minutes';
