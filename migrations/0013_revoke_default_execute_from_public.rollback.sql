-- Why: restore PostgreSQL's default (PUBLIC may execute new routines), which removes the default-ACL entry.
SET lock_timeout = '5s';
SET statement_timeout = '60s';

ALTER DEFAULT PRIVILEGES FOR ROLE devdiag_owner GRANT EXECUTE ON ROUTINES TO public;
