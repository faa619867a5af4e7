-- Per-plan API key rate limits, counted in shared memory, reported in
-- PostgREST's response.headers; over the limit, HTTP 429 with Retry-After.
\set VERBOSITY default
\set SHOW_CONTEXT never

BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT k ->> 'key' AS starter_key FROM nexus.create_api_key('limits', ARRAY['orders:read']) k \gset
COMMIT;

-- The windows are clock-aligned minutes: start well inside one, so that the
-- 61 requests below cannot straddle a minute boundary.
SELECT count(*) AS aligned FROM (
  SELECT CASE WHEN extract(second FROM clock_timestamp()) > 40
              THEN pg_sleep(61 - extract(second FROM clock_timestamp())) END) s;

-- First request: headers with the starter plan's minute limit.
BEGIN;
SELECT rest.as_key(:'starter_key');
SELECT h.key, h.value
  FROM jsonb_array_elements(current_setting('response.headers')::jsonb) e, jsonb_each_text(e) h
 WHERE h.key <> 'X-RateLimit-Reset';
SELECT (current_setting('response.headers')::jsonb -> 2 ->> 'X-RateLimit-Reset')::bigint % 60 = 0 AS reset_on_minute,
       (current_setting('response.headers')::jsonb -> 2 ->> 'X-RateLimit-Reset')::bigint
         - extract(epoch FROM now())::bigint BETWEEN 0 AND 60 AS reset_within_minute;
COMMIT;

-- 59 more are allowed (60/min), counting down; the 61st is refused.
CREATE FUNCTION pg_temp.requests(p_key text, p_n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  remaining text;
BEGIN
  FOR i IN 1 .. p_n LOOP
    PERFORM rest.as_key(p_key);
    remaining := current_setting('response.headers')::jsonb -> 1 ->> 'X-RateLimit-Remaining';
  END LOOP;
  RETURN remaining;
END $$;
SELECT pg_temp.requests(:'starter_key', 59) AS remaining_after_60;
-- PostgREST answers a PGRST error with the status and headers of its detail.
SELECT regexp_replace(rest.try(format('SELECT rest.as_key(%L)', :'starter_key')),
                      'after \d+ seconds', 'after N seconds') AS refused;
SELECT rest.try(format('SELECT rest.as_key(%L)', :'starter_key')) ~ '^PGRST: \{"code": "PT429"' AS still_429;
-- The refusal is parseable JSON for PostgREST, with a sane Retry-After.
CREATE FUNCTION pg_temp.refusal(p_key text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  m text;
  d text;
BEGIN
  PERFORM rest.as_key(p_key);
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
  RETURN jsonb_build_object('message', m::jsonb, 'detail', d::jsonb);
END $$;
SELECT r -> 'message' ->> 'code' AS code, r -> 'detail' ->> 'status' AS status,
       (r -> 'detail' -> 'headers' ->> 'Retry-After')::int BETWEEN 1 AND 60 AS retry_after_ok,
       r -> 'detail' -> 'headers' ->> 'X-RateLimit-Remaining' AS remaining
  FROM pg_temp.refusal(:'starter_key') r;

-- Limits are per key: another key of the same tenant is unaffected.
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT k ->> 'key' AS second_key FROM nexus.create_api_key('limits-2', ARRAY['orders:read']) k \gset
COMMIT;
SELECT pg_temp.requests(:'second_key', 1) AS other_key_remaining;

-- The plan sets the limit: growth allows 300 a minute.
UPDATE nexus.tenants SET plan = 'growth' WHERE slug = 'globex';
SELECT pg_temp.requests(:'second_key', 1) AS growth_remaining,
       current_setting('response.headers')::jsonb -> 0 ->> 'X-RateLimit-Limit' AS growth_limit;
UPDATE nexus.tenants SET plan = 'enterprise' WHERE slug = 'globex';
SELECT pg_temp.requests(:'second_key', 1) AS enterprise_remaining,
       current_setting('response.headers')::jsonb -> 0 ->> 'X-RateLimit-Limit' AS enterprise_limit;
UPDATE nexus.tenants SET plan = 'starter' WHERE slug = 'globex';

-- Requests without a key are not counted and get no headers.
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT current_setting('response.headers', true) AS no_headers;
COMMIT;

-- With limits disabled, keys still authenticate and nothing is refused.
ALTER SYSTEM SET nexus.rate_limit_enabled = off;
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
SHOW nexus.rate_limit_enabled;
BEGIN;
SELECT rest.as_key(:'starter_key');
SELECT nexus.tenant_id() = rest.tid('globex') AS authenticated_unlimited;
COMMIT;
ALTER SYSTEM RESET nexus.rate_limit_enabled;
SELECT pg_reload_conf();
