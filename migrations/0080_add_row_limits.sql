-- Why: an over-long tenant, problem code, fix code or environment, or a huge
-- evidence object, must be refused at the row, with an error naming the
-- limit, not deep inside a rollup's key where it stops every later sync;
-- each limit is a named CHECK on the run and fix tables, read from one
-- definition (devdiag.row_limit) that the sync reads too. Limits are bytes of UTF-8, sized so every key holding them fits
-- a B-tree entry. Added NOT VALID (brief lock, no scan); the next step
-- validates.
-- depends: 0054_create_rollup_resolved_day
SET lock_timeout = '5s';
SET statement_timeout = '60s';

-- The one definition of the limits. A CHECK constraint depends on it and
-- stored rows are not re-checked when a function changes, so a new limit is
-- a new migration step, never an edit here.
CREATE FUNCTION devdiag.row_limit(p_name text)
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
RETURN CASE p_name
    WHEN 'tenant' THEN 128
    WHEN 'problem_code' THEN 256
    WHEN 'fix_code' THEN 256
    WHEN 'env_fp' THEN 512
    WHEN 'evidence' THEN 32768
END;

COMMENT ON FUNCTION devdiag.row_limit(text) IS
'Row limits in bytes (UTF-8): tenant, problem_code, fix_code, env_fp, evidence (as JSON text); '
'enforced by the *_within_limit checks and read by the sync.';

-- Bytes of the longest code of a problems array (0 for anything else: the
-- array-of-strings check reports those; the parameter is qualified by the
-- function name, which sqlfluff cannot resolve).
CREATE FUNCTION devdiag.longest_problem_code(p_problems jsonb)
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
RETURN (
    SELECT coalesce(max(octet_length(c.code)), 0)
    FROM jsonb_array_elements_text(
        CASE
            WHEN jsonb_typeof(longest_problem_code.p_problems) = 'array' THEN longest_problem_code.p_problems  -- noqa: RF01
            ELSE '[]'
        END
    ) AS c (code)
);

COMMENT ON FUNCTION devdiag.longest_problem_code(jsonb) IS
'Length in bytes of the longest problem code of a problems array (0 when it is not an array).';

-- A problems array stores each code's bytes verbatim, so one no larger than
-- the limit holds no longer code: most rows skip the function, the dearest
-- part of these checks. Only a value of over 2 kB can arrive compressed (moved from
-- diag_run, where it was checked uncompressed).
ALTER TABLE devdiag.diag_run
ADD CONSTRAINT diag_run_tenant_within_limit
CHECK (octet_length(tenant) <= devdiag.row_limit('tenant')) NOT VALID,
ADD CONSTRAINT diag_run_problem_code_within_limit
CHECK (
    pg_column_size(problems) <= devdiag.row_limit('problem_code')
    OR devdiag.longest_problem_code(problems) <= devdiag.row_limit('problem_code')
) NOT VALID,
ADD CONSTRAINT diag_run_env_fp_within_limit
CHECK (octet_length(env_fp) <= devdiag.row_limit('env_fp')) NOT VALID,
ADD CONSTRAINT diag_run_evidence_within_limit
CHECK (octet_length(evidence::text) <= devdiag.row_limit('evidence')) NOT VALID;

ALTER TABLE devdiag.diag_run_archive
ADD CONSTRAINT diag_run_archive_tenant_within_limit
CHECK (octet_length(tenant) <= devdiag.row_limit('tenant')) NOT VALID,
ADD CONSTRAINT diag_run_archive_problem_code_within_limit
CHECK (
    pg_column_size(problems) <= devdiag.row_limit('problem_code')
    OR devdiag.longest_problem_code(problems) <= devdiag.row_limit('problem_code')
) NOT VALID,
ADD CONSTRAINT diag_run_archive_env_fp_within_limit
CHECK (octet_length(env_fp) <= devdiag.row_limit('env_fp')) NOT VALID,
ADD CONSTRAINT diag_run_archive_evidence_within_limit
CHECK (octet_length(evidence::text) <= devdiag.row_limit('evidence')) NOT VALID;

ALTER TABLE devdiag.fix_outcome
ADD CONSTRAINT fix_outcome_tenant_within_limit
CHECK (octet_length(tenant) <= devdiag.row_limit('tenant')) NOT VALID,
ADD CONSTRAINT fix_outcome_problem_code_within_limit
CHECK (octet_length(problem_code) <= devdiag.row_limit('problem_code')) NOT VALID,
ADD CONSTRAINT fix_outcome_fix_code_within_limit
CHECK (octet_length(fix_code) <= devdiag.row_limit('fix_code')) NOT VALID,
ADD CONSTRAINT fix_outcome_env_fp_within_limit
CHECK (octet_length(env_fp) <= devdiag.row_limit('env_fp')) NOT VALID;
