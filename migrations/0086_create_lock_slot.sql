-- Why: maintenance serialises on keys (one tenant's rollup rows, one run
-- table's partitions, the day mover). An advisory lock key can be taken by any
-- login that may connect and held as long as it likes, stalling every writer
-- of a tenant or the retention job; a row of this owner-only table can be
-- locked only by the owner's code, which writers reach through the SECURITY
-- DEFINER rollup triggers (devdiag.take_lock in sql/functions).
-- depends: 0085_create_sync_run_lock 0061_create_reference_schema
SET lock_timeout = '5s';
SET statement_timeout = '60s';

CREATE TABLE devdiag.lock_slot (
    lock_class bigint NOT NULL,
    lock_key bigint NOT NULL,
    CONSTRAINT lock_slot_pkey PRIMARY KEY (lock_class, lock_key)
);

COMMENT ON TABLE devdiag.lock_slot IS
'One row per maintenance lock key; devdiag.take_lock holds a row FOR UPDATE until the end of its transaction.';
