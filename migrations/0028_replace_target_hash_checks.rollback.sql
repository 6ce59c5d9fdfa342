-- Why: restore the original (slow) form of the target hash checks.
-- squawk-ignore-file prefer-robust-stmts, ban-drop-constraint
SET lock_timeout = '5s';
SET statement_timeout = '0';
ALTER TABLE devdiag.diag_run_archive
DROP CONSTRAINT diag_run_archive_target_hash_is_lowercase_hex_digest,
ADD CONSTRAINT diag_run_archive_target_hash_is_lowercase_hex_digest
CHECK (target_hash ~ '^[0-9a-f]{32,128}$');
ALTER TABLE devdiag.diag_run
DROP CONSTRAINT diag_run_target_hash_is_lowercase_hex_digest,
ADD CONSTRAINT diag_run_target_hash_is_lowercase_hex_digest
CHECK (target_hash ~ '^[0-9a-f]{32,128}$');
