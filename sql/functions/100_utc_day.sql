-- Why: every day bucket is a UTC day whatever the session TimeZone is.
CREATE OR REPLACE FUNCTION devdiag.utc_day(p_ts timestamptz)
RETURNS date
LANGUAGE sql
IMMUTABLE PARALLEL SAFE STRICT
RETURN (p_ts AT TIME ZONE 'UTC')::date;

COMMENT ON FUNCTION devdiag.utc_day(timestamptz) IS
'The UTC calendar day of a timestamp, independent of the session TimeZone.';
