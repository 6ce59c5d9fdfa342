-- Why: a validated check cannot be un-validated; re-adding it NOT VALID is
-- the closest reverse (step 0028's rollback restores the original form).
-- squawk-ignore-file prefer-robust-stmts
SET lock_timeout = '5s';
SET statement_timeout = '60s';
ALTER TABLE devdiag.diag_run
DROP CONSTRAINT diag_run_target_hash_is_lowercase_hex_digest,
ADD CONSTRAINT diag_run_target_hash_is_lowercase_hex_digest
CHECK (length(target_hash) BETWEEN 32 AND 128 AND target_hash ~ '^[0-9a-f]+$') NOT VALID;
ALTER TABLE devdiag.diag_run_archive
DROP CONSTRAINT diag_run_archive_target_hash_is_lowercase_hex_digest,
ADD CONSTRAINT diag_run_archive_target_hash_is_lowercase_hex_digest
CHECK (length(target_hash) BETWEEN 32 AND 128 AND target_hash ~ '^[0-9a-f]+$') NOT VALID;
