-- Why: time-to-remediation is a per-target state machine over runs in time
-- order (an episode opens on a report, closes on the first later run of the
-- same preset, or full, that no longer reports the problem); a single ordered
-- pass computes it exactly, whatever order the runs arrived in.
CREATE OR REPLACE FUNCTION devdiag_ref.ttr_episodes()
RETURNS TABLE (
    tenant text,
    target_hash text,
    problem_code text,
    preset text,
    started_at timestamptz,
    last_seen timestamptz,
    resolved_at timestamptz,
    start_run_id bigint,
    end_run_id bigint
)
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    cur_tenant text;
    cur_target text;
    -- open episodes of the current target: code -> {p: preset, s: started, l: last_seen, i: start id}
    open_eps jsonb := '{}'::jsonb;
    code text;
    ep jsonb;
    codes text[];
BEGIN
    FOR r IN
        SELECT u.tenant, u.target_hash, u.ts, u.id, u.preset,
               ARRAY(SELECT DISTINCT c FROM jsonb_array_elements_text(u.problems) AS c) AS codes
        FROM (
            SELECT d.tenant, d.target_hash, d.ts, d.id, d.preset, d.problems FROM devdiag.diag_run AS d
            UNION ALL
            SELECT a.tenant, a.target_hash, a.ts, a.id, a.preset, a.problems FROM devdiag.diag_run_archive AS a
        ) AS u
        ORDER BY u.tenant, u.target_hash, u.ts, u.id
    LOOP
        IF cur_tenant IS DISTINCT FROM r.tenant OR cur_target IS DISTINCT FROM r.target_hash THEN
            -- flush the open episodes of the previous target
            FOR code, ep IN SELECT k, v FROM jsonb_each(open_eps) AS e(k, v) LOOP
                tenant := cur_tenant; target_hash := cur_target; problem_code := code;
                preset := ep->>'p'; started_at := (ep->>'s')::timestamptz;
                last_seen := (ep->>'l')::timestamptz; resolved_at := NULL;
                start_run_id := (ep->>'i')::bigint; end_run_id := NULL;
                RETURN NEXT;
            END LOOP;
            open_eps := '{}'::jsonb;
            cur_tenant := r.tenant;
            cur_target := r.target_hash;
        END IF;
        codes := r.codes;
        -- close or extend the open episodes this run speaks for
        FOR code, ep IN SELECT k, v FROM jsonb_each(open_eps) AS e(k, v) LOOP
            IF r.preset = 'full' OR r.preset IS NOT DISTINCT FROM (ep->>'p') THEN
                IF code = ANY(codes) THEN
                    open_eps := jsonb_set(open_eps, ARRAY[code, 'l'], to_jsonb(r.ts));
                ELSE
                    tenant := cur_tenant; target_hash := cur_target; problem_code := code;
                    preset := ep->>'p'; started_at := (ep->>'s')::timestamptz;
                    last_seen := (ep->>'l')::timestamptz; resolved_at := r.ts;
                    start_run_id := (ep->>'i')::bigint; end_run_id := r.id;
                    RETURN NEXT;
                    open_eps := open_eps - code;
                END IF;
            END IF;
        END LOOP;
        -- open episodes for problems reported while none is open
        FOREACH code IN ARRAY codes LOOP
            IF NOT open_eps ? code THEN
                open_eps := open_eps || jsonb_build_object(
                    code, jsonb_build_object('p', r.preset, 's', r.ts, 'l', r.ts, 'i', r.id));
            END IF;
        END LOOP;
    END LOOP;
    FOR code, ep IN SELECT k, v FROM jsonb_each(open_eps) AS e(k, v) LOOP
        tenant := cur_tenant; target_hash := cur_target; problem_code := code;
        preset := ep->>'p'; started_at := (ep->>'s')::timestamptz;
        last_seen := (ep->>'l')::timestamptz; resolved_at := NULL;
        start_run_id := (ep->>'i')::bigint; end_run_id := NULL;
        RETURN NEXT;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION devdiag_ref.ttr_episodes() IS
'Remediation episodes computed from live and archived runs in time order; resolved_at is NULL while open.';
