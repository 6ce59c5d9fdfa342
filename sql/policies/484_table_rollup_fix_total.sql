-- Why: v_fix_success and v_fix_ranking read it (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_fix_total TO devdiag_reader, devdiag_analyst;
