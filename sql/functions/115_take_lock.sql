-- Why: a transaction-scoped lock on (class, key) that only the owner's code can
-- take, where an advisory key would let any login stall writers and jobs.
CREATE OR REPLACE FUNCTION devdiag.take_lock(p_class integer, p_key integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO devdiag.lock_slot (lock_class, lock_key) VALUES (p_class, p_key)
    ON CONFLICT DO NOTHING;
    PERFORM FROM devdiag.lock_slot AS s
    WHERE s.lock_class = p_class AND s.lock_key = p_key
    FOR UPDATE;
    RETURN 1;
END;
$$;

REVOKE ALL ON FUNCTION devdiag.take_lock(integer, integer) FROM public;

COMMENT ON FUNCTION devdiag.take_lock(integer, integer) IS
'Locks the maintenance key (class, key) until the end of the transaction (a row lock on devdiag.lock_slot); '
'only the owner, and code running with its rights, can take one.';
