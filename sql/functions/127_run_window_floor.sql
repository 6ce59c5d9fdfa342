-- Why: a view of the last hours of runs (v_recent_activity) filters on
-- now() - interval, which is not a constant when the query is planned, so the
-- planner plans every day partition and prunes them only when the query
-- starts; at hundreds of days that planning is most of the query's time. This
-- floor, a UTC midnight at least a day before now() - p_window, is declared
-- IMMUTABLE so that the planner computes it once, when it plans, and plans only
-- the partitions from that day on. The view keeps its exact filter on now(): the
-- floor only tells the planner which days cannot hold a row of the window.
-- A plan made earlier and used later (a prepared statement) holds an earlier
-- floor, which plans more days and excludes none of the window: time only
-- moves forward, so a floor computed when planning never passes the window's
-- start when the query runs. The day of slack covers a clock set back.
CREATE OR REPLACE FUNCTION devdiag.run_window_floor(p_window interval)
RETURNS timestamptz
LANGUAGE sql
IMMUTABLE PARALLEL SAFE STRICT
SET search_path = pg_catalog, pg_temp
RETURN (date_trunc('day', (now() - p_window) AT TIME ZONE 'UTC') - interval '1 day') AT TIME ZONE 'UTC';

COMMENT ON FUNCTION devdiag.run_window_floor(interval) IS
'A UTC midnight at least a day before now() - p_window, computed when a query is planned; a view adds ts >= this '
'to its now() window so that only the day partitions from it on are planned.';
