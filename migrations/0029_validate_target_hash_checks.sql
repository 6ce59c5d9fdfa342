-- Why: validate the re-written target hash checks of step 0028 under a lock
-- that lets writers continue, so every stored row is known to satisfy them.
-- depends: 0028_replace_target_hash_checks
SET lock_timeout = '5s';
SET statement_timeout = '0';

ALTER TABLE devdiag.diag_run VALIDATE CONSTRAINT diag_run_target_hash_is_lowercase_hex_digest;
ALTER TABLE devdiag.diag_run_archive VALIDATE CONSTRAINT diag_run_archive_target_hash_is_lowercase_hex_digest;
