-- Why: a validated check cannot be un-validated, and step 0080's rollback
-- drops the checks themselves; nothing to undo here.
SELECT 1;
