UPDATE devdiag.sync_source
SET
    run_watermark = %(hi)s,
    run_high_water = greatest(run_high_water, %(hi)s),
    runs_synced = runs_synced + %(landed)s,
    rows_rejected = rows_rejected + %(rejected)s,
    fingerprint_run_id = coalesce(fingerprint_run_id, %(fp_id)s),
    fingerprint = coalesce(fingerprint, %(fp)s)
WHERE id = %(source)s;
