-- Why: undo the reference schema; its views and function go with it (the
-- views of devdiag come back with the next make migrate).
-- squawk-ignore-file ban-drop-schema
SET lock_timeout = '5s';
SET statement_timeout = '60s';
DROP SCHEMA devdiag_ref CASCADE;
