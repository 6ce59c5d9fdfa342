-- Why: a run dated far in the future would stay the newest run for good and
-- silence the freshness checks and the no-recent-runs alert. A CHECK cannot
-- read the clock (it must be immutable), so a row trigger refuses such runs,
-- with an error that names the rule as a constraint. A row trigger on the
-- table also fires for a partition's rows, whichever way they are inserted.
-- Its WHEN condition lets the past runs (nearly all of them) through without
-- calling the function, so a bulk load pays an expression per row, not a call.
CREATE OR REPLACE FUNCTION devdiag.refuse_future_run()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_minutes numeric;
BEGIN
    -- Called for runs after now() only (the trigger's WHEN). An infinite ts
    -- is left to the diag_run_ts_is_finite check, which names it.
    IF NOT isfinite(NEW.ts) THEN
        RETURN NEW;
    END IF;
    SELECT (s.value #>> '{}')::numeric INTO v_minutes FROM devdiag.settings AS s WHERE s.key = 'max_future_minutes';
    v_minutes := coalesce(v_minutes, 5);
    IF NEW.ts > clock_timestamp() + make_interval(secs => v_minutes * 60) THEN
        RAISE EXCEPTION 'devdiag: run ts % is more than % minutes after the warehouse''s clock', NEW.ts, v_minutes
            USING ERRCODE = 'check_violation', CONSTRAINT = 'diag_run_ts_not_in_future',
            SCHEMA = 'devdiag', TABLE = 'diag_run',
            HINT = 'Fix the writer''s clock; the allowed skew is settings.max_future_minutes.';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION devdiag.refuse_future_run() IS
'Row trigger of diag_run: refuses a run dated more than settings.max_future_minutes (5) after now.';

-- Attached only when missing or without its WHEN condition, so a no-op
-- migrate takes no lock on diag_run.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_catalog.pg_trigger AS t
        WHERE t.tgrelid = 'devdiag.diag_run'::regclass AND t.tgname = 'diag_run_ts_not_in_future'
            AND t.tgfoid = 'devdiag.refuse_future_run()'::regprocedure AND NOT t.tgisinternal
            AND t.tgqual IS NOT NULL
    ) THEN
        DROP TRIGGER IF EXISTS diag_run_ts_not_in_future ON devdiag.diag_run;
        CREATE TRIGGER diag_run_ts_not_in_future BEFORE INSERT OR UPDATE OF ts ON devdiag.diag_run
        FOR EACH ROW WHEN (NEW.ts > now()) EXECUTE FUNCTION devdiag.refuse_future_run();
    END IF;
END;
$$;
