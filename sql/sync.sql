-- Sync requests: sync_now, cancel_sync, enqueue_due_syncs, schedule_syncs,
-- the run history and health view.  No worker runs here (test/nexus.conf:
-- nexus.sync_workers = 0), so queued runs stay queued; test/integration
-- runs the workers against the marketplace simulator.
\set VERBOSITY default
\set SHOW_CONTEXT never

BEGIN;
SELECT rest.as_user('adam', 'acme');
CREATE TEMP TABLE sc AS
SELECT m, nexus.connect_marketplace(m, m || ' sync', c::jsonb, region => r) AS id
  FROM (VALUES
    ('shopify', '{"shop_domain": "sync-test.myshopify.com", "access_token": "t"}', NULL),
    ('bol', '{"client_id": "b", "client_secret": "s"}', NULL)) v(m, c, r);
COMMIT;
GRANT SELECT ON sc TO PUBLIC;
BEGIN;
SELECT rest.as_user('bob', 'globex');
CREATE TEMP TABLE gc AS
SELECT nexus.connect_marketplace('bol', 'globex sync', '{"client_id": "g", "client_secret": "s"}') AS id;
COMMIT;
GRANT SELECT ON gc TO PUBLIC;

-- A manager queues one connection; asking again merges into the open run.
BEGIN;
SELECT rest.as_user('mia', 'acme');
CREATE TEMP TABLE first_run AS
SELECT s.id, s.connection_id = (SELECT id FROM sc WHERE m = 'shopify') AS same, s.status, s.trigger
  FROM nexus.sync_now((SELECT id FROM sc WHERE m = 'shopify')) s;
SELECT same, status, trigger FROM first_run;
SELECT s.id = (SELECT id FROM first_run) AS merged FROM nexus.sync_now((SELECT id FROM sc WHERE m = 'shopify')) s;
COMMIT;
-- All connections of the tenant: the shopify one merges, the others are new.
BEGIN;
SELECT rest.as_user('mia', 'acme');
CREATE TEMP TABLE all_runs AS SELECT * FROM nexus.sync_now();
SELECT count(*) = (SELECT count(*) FROM nexus.marketplace_connections) AS one_per_connection,
       count(DISTINCT connection_id) = count(*) AS distinct_connections
  FROM all_runs;
SELECT c.account_name, s.id = (SELECT id FROM first_run) AS merged
  FROM all_runs s JOIN sc c0 ON c0.id = s.connection_id
  JOIN nexus.marketplace_connections c ON c.id = s.connection_id
 ORDER BY 1;
-- The runs are visible to the tenant, one open run per connection.
SELECT count(*) = (SELECT count(*) FROM all_runs) AS all_visible,
       bool_and(status = 'queued' AND attempts = 0 AND pages = 0) AS all_queued
  FROM nexus.sync_runs;
COMMIT;

-- A viewer cannot sync; another tenant's connection does not exist for you.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT rest.try(format('SELECT nexus.sync_now(%L)', (SELECT id FROM sc WHERE m = 'bol')));
SELECT count(*) = (SELECT count(*) FROM all_runs) AS viewer_sees_them FROM nexus.sync_runs;
COMMIT;
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT replace(rest.try(format('SELECT nexus.sync_now(%L)', (SELECT id FROM gc))), (SELECT id FROM gc)::text, '<globex''s>');
SELECT replace(rest.try(format('SELECT nexus.cancel_sync(%L)', (SELECT id FROM gc))), (SELECT id FROM gc)::text, '<globex''s>');
COMMIT;
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT count(*) AS acme_runs_bob_sees FROM nexus.sync_runs;
COMMIT;
-- Anonymous callers and the service role without a connection.
BEGIN;
SELECT rest.request('anon');
SELECT rest.try('SELECT nexus.sync_now()');
COMMIT;
BEGIN;
SET LOCAL ROLE service_role;
SELECT rest.try('SELECT nexus.sync_now()');
SELECT s.status, s.trigger FROM nexus.sync_now((SELECT id FROM gc)) s;
SELECT rest.try(format('SELECT nexus.sync_now(%L)', '00000000-0000-4000-8000-000000000000'));
COMMIT;

-- An API key with sync:write syncs; one with only orders:read cannot.
SELECT (nexus.create_api_key('sync bot', ARRAY['sync:write'])) ->> 'key' AS sync_key
  FROM (SELECT rest.as_user('olivia', 'acme')) x \gset
SELECT (nexus.create_api_key('reader', ARRAY['orders:read'])) ->> 'key' AS read_key
  FROM (SELECT rest.as_user('olivia', 'acme')) x \gset
RESET ROLE;
BEGIN;
SELECT rest.as_key(:'sync_key');
SELECT s.status FROM nexus.sync_now((SELECT id FROM sc WHERE m = 'bol')) s;
COMMIT;
BEGIN;
SELECT rest.as_key(:'read_key');
SELECT rest.try('SELECT nexus.sync_now()');
COMMIT;

-- Cancel: the open run is closed, a second cancel finds nothing.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.cancel_sync((SELECT id FROM sc WHERE m = 'bol')) AS cancelled;
SELECT nexus.cancel_sync((SELECT id FROM sc WHERE m = 'bol')) AS cancelled_again;
SELECT status, error, finished_at IS NOT NULL AS finished FROM nexus.sync_runs
 WHERE connection_id = (SELECT id FROM sc WHERE m = 'bol') ORDER BY id;
-- After a cancel, a new request opens a new run.
SELECT s.status, s.error FROM nexus.sync_now((SELECT id FROM sc WHERE m = 'bol')) s;
COMMIT;
RESET ROLE;

-- The tables cannot be written directly, only through the functions.
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT rest.try('UPDATE nexus.sync_runs SET status = ''succeeded''');
SELECT rest.try(format('INSERT INTO nexus.sync_runs (tenant_id, connection_id, trigger) VALUES (%L, %L, ''manual'')',
                       rest.tid('acme'), (SELECT id FROM sc WHERE m = 'shopify')));
SELECT rest.try('SELECT nexus.enqueue_due_syncs()');
COMMIT;

-- enqueue_due_syncs queues what is due and skips what has a run open or is
-- in error.  Only "shopify sync" keeps its open run.
UPDATE nexus.sync_runs SET status = 'cancelled', finished_at = now()
 WHERE status = 'queued' AND connection_id <> (SELECT id FROM sc WHERE m = 'shopify');
UPDATE nexus.marketplace_connections SET next_sync_at = now() + interval '1 hour';
UPDATE nexus.marketplace_connections SET next_sync_at = now() - interval '1 minute'
 WHERE account_name IN ('Acme US', 'Acme DE', 'shopify sync', 'globex sync');
UPDATE nexus.marketplace_connections SET status = 'error' WHERE account_name = 'Acme DE';
SELECT nexus.enqueue_due_syncs() AS queued;
SELECT c.account_name, r.trigger, r.status
  FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id
 WHERE r.status = 'queued' ORDER BY 1;
-- Their next_sync_at moved one interval on; a second call finds nothing due.
SELECT account_name, next_sync_at > now() + sync_interval - interval '1 minute' AS moved_on
  FROM nexus.marketplace_connections WHERE account_name IN ('Acme US', 'shopify sync') ORDER BY 1;
SELECT nexus.enqueue_due_syncs() AS queued_again;

-- Retention: finished runs older than nexus.sync_run_retention_days go.
UPDATE nexus.sync_runs SET finished_at = now() - interval '40 days' WHERE status = 'cancelled';
SELECT nexus.enqueue_due_syncs() AS queued;
SELECT count(*) AS cancelled_left FROM nexus.sync_runs WHERE status = 'cancelled';

-- pg_cron: one call installs the job, a second changes it, unschedule removes it.
SELECT nexus.schedule_syncs() > 0 AS scheduled;
SELECT jobname, schedule, command FROM cron.job WHERE jobname = 'nexus-enqueue-due-syncs';
SELECT nexus.schedule_syncs('*/5 * * * *') > 0 AS rescheduled;
SELECT schedule FROM cron.job WHERE jobname = 'nexus-enqueue-due-syncs';
SELECT nexus.unschedule_syncs() AS removed, nexus.unschedule_syncs() AS removed_again;
-- Without pg_cron, a clear error.
BEGIN;
DROP EXTENSION pg_cron;
SELECT rest.try('SELECT nexus.schedule_syncs()');
ROLLBACK;
-- (the SQLSTATE, 55000, is checked just above)
BEGIN;
DROP EXTENSION pg_cron;
SELECT nexus.schedule_syncs();
ROLLBACK;
\set VERBOSITY default

-- The workers' view: no worker runs in this instance, the backlog shows.
SELECT worker, pid, state, backlog FROM nexus.worker_status;

-- Health: unknown before any finished run; a failed last run is unhealthy,
-- failures among successes degraded.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT account_name, health FROM nexus.connection_health
 WHERE account_name IN ('Acme DE', 'bol sync', 'shopify sync') ORDER BY 1;
COMMIT;
RESET ROLE;
WITH c AS (SELECT id, tenant_id FROM nexus.marketplace_connections WHERE account_name = 'Acme US')
INSERT INTO nexus.sync_runs (tenant_id, connection_id, trigger, status, finished_at)
SELECT c.tenant_id, c.id, 'schedule', s, now() FROM c, unnest(ARRAY['succeeded', 'failed', 'succeeded']) s;
WITH c AS (SELECT id, tenant_id FROM nexus.marketplace_connections WHERE account_name = 'Acme NL')
INSERT INTO nexus.sync_runs (tenant_id, connection_id, trigger, status, finished_at)
SELECT c.tenant_id, c.id, 'schedule', s, now() FROM c, unnest(ARRAY['succeeded', 'failed']) s;
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT account_name, runs, succeeded, failed, last_run_status, health
  FROM nexus.connection_health WHERE account_name IN ('Acme US', 'Acme NL', 'shopify sync') ORDER BY 1;
COMMIT;
RESET ROLE;
-- The window is a setting.
SET nexus.health_window = 1;
SELECT account_name, runs, health FROM nexus.connection_health WHERE account_name = 'Acme US';
RESET nexus.health_window;

-- A new credential drops the cached access token.
INSERT INTO nexus_private.access_tokens (tenant_id, connection_id, key_version, nonce, ciphertext, expires_at)
SELECT tenant_id, id, 1, '\x00', '\x00', now() + interval '1 hour' FROM nexus.marketplace_connections
 WHERE account_name = 'bol sync';
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.update_credentials((SELECT id FROM sc WHERE m = 'bol'), '{"client_id": "b2", "client_secret": "s2"}');
COMMIT;
RESET ROLE;
SELECT count(*) AS tokens_left FROM nexus_private.access_tokens;

-- Deleting a connection takes its runs with it.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.disconnect_marketplace((SELECT id FROM sc WHERE m = 'shopify'));
COMMIT;
RESET ROLE;
SELECT count(*) AS runs_of_deleted FROM nexus.sync_runs WHERE connection_id = (SELECT id FROM sc WHERE m = 'shopify');

-- A run whose lease ran out after 10 claims is abandoned, not claimed again
-- (a worker that died with it every time), and its connection is in error.
SELECT c.id AS abandoned_conn, c.tenant_id AS abandoned_tenant
  FROM nexus.marketplace_connections c WHERE c.account_name = 'Acme US' \gset
UPDATE nexus.sync_runs SET status = 'cancelled' WHERE connection_id = :'abandoned_conn' AND status IN ('queued', 'running');
INSERT INTO nexus.sync_runs (tenant_id, connection_id, trigger, status, attempts, worker_pid, lease_until, started_at)
VALUES (:'abandoned_tenant', :'abandoned_conn', 'schedule', 'running', 10, 1, now() - interval '1 minute', now() - interval '1 hour');
SELECT count(*) AS claimed
  FROM nexus_private.claim_sync_runs(2, 100, '1 minute', '5 minutes', '30 days') r
 WHERE r.connection_id = :'abandoned_conn';
SELECT status, error FROM nexus.sync_runs WHERE connection_id = :'abandoned_conn' ORDER BY id DESC LIMIT 1;
SELECT status, error_message FROM nexus.marketplace_connections WHERE id = :'abandoned_conn';
