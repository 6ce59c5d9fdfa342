-- Answers: per tenant, how healthy was it over the window: runs, share with problems, problems reported, remediation, open at the end, fix success rate?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
-- devdiag.tenant_health_window defines the numbers (make report reads them too); this rounds them.
SELECT
    w.tenant,
    w.runs,
    round(100.0 * w.problem_runs / nullif(w.runs, 0), 1) AS pct_runs_with_problems,
    w.problems_reported,
    w.episodes_resolved,
    round(w.avg_ttr_days::numeric, 2) AS avg_ttr_days,
    w.open_problems_at_end,
    round(w.fix_success_rate_all_time::numeric, 3) AS fix_success_rate_all_time
FROM devdiag.tenant_health_window(:'from'::date, :'to'::date) AS w
WHERE :'tenant' = '' OR w.tenant = :'tenant'
ORDER BY w.runs DESC, w.tenant ASC;
