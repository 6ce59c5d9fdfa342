-- Why: the unique index behind "a re-sent run lands once" is built
-- CONCURRENTLY so DevDiag writers and syncs keep inserting into a large
-- diag_run meanwhile. Key order (source_id, source_run_id, tenant): a sync
-- appends in SQLite id order, so inserts hit the right-most leaf; tenant is
-- part of the key so the schema stays Citus-ready. The two SETs are session
-- settings (nothing to half-apply); if the build fails, yoyo runs the
-- rollback, whose DROP INDEX IF EXISTS removes the invalid index it leaves.
-- transactional: false
-- depends: 0023_validate_source_identity_checks
SET lock_timeout = '5s';
SET statement_timeout = '0';
CREATE UNIQUE INDEX CONCURRENTLY diag_run_source_identity_key
ON devdiag.diag_run (source_id, source_run_id, tenant);
