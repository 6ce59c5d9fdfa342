-- Why: the TTR summary (sql/queries/320) takes the median and 90th percentile
-- of ttr_hours over the episodes resolved in a window. Read from the episodes
-- it sorts every one of them. This step adds what lets it read a few rows
-- instead: a histogram of the resolved episodes by time to resolve
-- (devdiag.ttr_bucket: 128 buckets, each about 12 % wider than the one
-- before, from under a minute to two years and more) per tenant, problem and
-- aligned block of 1, 2, 4, ... 64 UTC days of first_zero_day
-- (rollup_ttr_block), so a window is a handful of blocks per tenant and
-- problem and the percentile's bucket is known before any episode is read;
-- and an index on the resolved episodes by problem, bucket and resolved_at,
-- so only that bucket's episodes of the window are read and sorted. The
-- rollup is filled from the stored episodes when sql/ is applied next
-- (sql/rollups/200_ttr_episodes.sql); the index is built here, over them.
-- The table is new and empty when its index is built. The episode index is
-- built in the step's transaction (CONCURRENTLY cannot run in one): it holds
-- a SHARE lock on the episode table, so a refresh that writes episodes waits
-- for the build, while readers go on.
-- ttr_counts holds counts of one tenant, problem and block, so 32 bits
-- suffice and the rows a window reads stay half as wide. The rows are
-- updated in place by every refresh that resolves episodes in their blocks;
-- half-full pages let each new version stay on its row's page (no key
-- changes), so the blocks of a window, written together, are read together.
-- squawk-ignore-file require-concurrent-index-creation, prefer-bigint-over-int
SET lock_timeout = '5s';
SET statement_timeout = '0';

CREATE FUNCTION devdiag.ttr_bucket(ttr interval)
RETURNS integer
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN width_bucket(
    ttr,
    '{
        60, 67, 75, 83, 93, 104, 116, 130, 145, 162, 180, 201,
        225, 251, 280, 313, 349, 390, 435, 486, 543, 606, 676, 755,
        843, 941, 1051, 1173, 1310, 1462, 1632, 1822, 2034, 2271, 2535, 2830,
        3160, 3528, 3938, 4397, 4908, 5480, 6118, 6830, 7625, 8512, 9503, 10609,
        11844, 13223, 14762, 16480, 18398, 20540, 22931, 25600, 28580, 31907, 35621, 39767,
        44396, 49563, 55333, 61773, 68964, 76991, 85953, 95958, 107127, 119597, 133518, 149059,
        166410, 185780, 207405, 231547, 258499, 288588, 322179, 359681, 401548, 448288, 500469, 558724,
        623759, 696364, 777421, 867913, 968938, 1081723, 1207635, 1348204, 1505135, 1680333, 1875923, 2094281,
        2338055, 2610205, 2914032, 3253226, 3631901, 4054655, 4526616, 5053514, 5641744, 6298443, 7031581, 7850057,
        8763804, 9783911, 10922758, 12194167, 13613568, 15198187, 16967256, 18942245, 21147122, 23608647, 26356694, 29424613,
        32849638, 36673336, 40942112, 45707774, 51028159, 56967837, 63598893
    }'::interval[]
);

COMMENT ON FUNCTION devdiag.ttr_bucket(interval) IS
'Histogram bucket (0 to 127) of a time to resolve (resolved_at - started_at): 0 under a minute, then buckets '
'whose lower bounds grow by about 12 % each, from 60 seconds to two years (127). Never decreases as ttr grows.';

CREATE TABLE devdiag_rollup.rollup_ttr_block (
    tenant text NOT NULL,
    problem_code text NOT NULL,
    block_days integer NOT NULL,
    block_start date NOT NULL,
    episodes bigint NOT NULL,
    ttr_days_sum bigint NOT NULL,
    ttr_counts integer[] NOT NULL,
    CONSTRAINT rollup_ttr_block_pkey PRIMARY KEY (tenant, problem_code, block_days, block_start)
) WITH (fillfactor = 50);

CREATE INDEX rollup_ttr_block_block_idx ON devdiag_rollup.rollup_ttr_block USING btree (block_start, block_days);

COMMENT ON TABLE devdiag_rollup.rollup_ttr_block IS
'Rollup behind v_ttr_blocks: resolved remediation episodes per tenant, problem and block of block_days UTC days '
'(1, 2, 4, ... 64) of first_zero_day from block_start (a multiple of block_days days after 1970-01-01); '
'ttr_counts[k] counts those in devdiag.ttr_bucket k - 1.';

CREATE INDEX rollup_ttr_episode_bucket_idx ON devdiag_rollup.rollup_ttr_episode USING btree (
    problem_code, devdiag.ttr_bucket(resolved_at - started_at), resolved_at
) INCLUDE (tenant, started_at, ttr_days) WHERE resolved_at IS NOT NULL;
