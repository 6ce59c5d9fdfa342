-- Why: v_ttr_histogram reads it (rows filtered by the tenant policies).
GRANT SELECT ON devdiag_rollup.rollup_ttr_histogram TO devdiag_reader, devdiag_analyst;
