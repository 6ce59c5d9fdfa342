-- Why: PostgreSQL lets PUBLIC execute every new function by default; in this
-- database a routine created by devdiag_owner is executable only by the roles
-- sql/policies grants it to, even before the next migrate re-applies them.
-- depends: 0012_create_tenant_grant
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER DEFAULT PRIVILEGES FOR ROLE devdiag_owner REVOKE EXECUTE ON ROUTINES FROM public;
