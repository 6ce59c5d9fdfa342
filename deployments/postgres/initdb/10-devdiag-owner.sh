#!/bin/bash
# First start only (docker-entrypoint-initdb.d): the shape a managed service
# gives a DBA. The warehouse is owned by the non-superuser login devdiag
# (CREATEROLE, so migrations can create the devdiag_* group roles); the
# superuser stays for the one privileged step, CREATE EXTENSION pg_cron.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pass="$DEVDIAG_DB_PASS" <<'SQL'
CREATE ROLE devdiag LOGIN CREATEROLE PASSWORD :'pass';
CREATE DATABASE devdiag OWNER devdiag;
\connect devdiag
CREATE EXTENSION IF NOT EXISTS pg_cron;
-- The owner schedules the warehouse's jobs (make jobs) without being superuser.
GRANT USAGE ON SCHEMA cron TO devdiag;
SQL
