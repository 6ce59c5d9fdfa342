-- Answers: for each problem reported in the window, which learned fixes to try first: rank, successes, mean confidence and its tier?
-- Parameters (psql -v NAME=VALUE, all optional): tenant (default: every tenant you may read);
-- from, to: UTC dates, both included (default: the last `days` UTC days up to today; days defaults to 30).
\ir include/window_params.psql
-- Fix outcomes are the learner's cumulative state (support only grows), so the
-- window selects the problems, not the successes.
WITH reported AS (
    SELECT
        pc.tenant,
        pc.problem_code,
        sum(pc.runs)::bigint AS runs_in_window
    FROM devdiag.v_problem_counts AS pc
    WHERE
        pc.day BETWEEN :'from'::date AND :'to'::date
        AND (:'tenant' = '' OR pc.tenant = :'tenant')
    GROUP BY pc.tenant, pc.problem_code
)

SELECT
    r.tenant,
    r.problem_code,
    r.runs_in_window,
    fr.fix_code,
    fr.rank,
    fr.successes,
    round(fr.avg_confidence::numeric, 3) AS avg_confidence,
    CASE
        WHEN fr.avg_confidence >= 0.8 THEN 'High'
        WHEN fr.avg_confidence >= 0.6 THEN 'Medium'
        ELSE 'Low'
    END AS confidence_tier
FROM reported AS r
INNER JOIN devdiag.v_fix_ranking AS fr
    ON r.tenant = fr.tenant AND r.problem_code = fr.problem_code
ORDER BY r.tenant ASC, r.runs_in_window DESC, r.problem_code ASC, fr.rank ASC, fr.fix_code ASC;
