-- Why: jobs and scripts read policy from the settings table at run time, so
-- a change needs no redeploy. (setting.p_key is the parameter, qualified by the
-- function name, which sqlfluff cannot resolve.)
CREATE OR REPLACE FUNCTION devdiag.setting(p_key text)
RETURNS jsonb
LANGUAGE sql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (
    SELECT s.value
    FROM devdiag.settings AS s
    WHERE s.key = setting.p_key  -- noqa: RF01
);

COMMENT ON FUNCTION devdiag.setting(text) IS
'The jsonb value of a row of devdiag.settings (NULL when the key is absent).';
