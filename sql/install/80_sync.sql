-- Sync engine (bgworker/): the run queue, its history, and the calls that
-- only write requests and wake the workers at commit.  No function here
-- does network I/O; the workers claim runs, fetch with no transaction open,
-- and record each page with the functions in nexus_private below.

CREATE TABLE nexus.sync_runs (
  tenant_id       uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  connection_id   uuid NOT NULL,
  trigger         text NOT NULL,
  status          text NOT NULL DEFAULT 'queued',
  requested_at    timestamptz NOT NULL DEFAULT now(),
  -- A queued run is not claimed before this (retry backoff).
  not_before      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  -- While running: the worker's pid and how long its claim lasts.  A run
  -- whose lease ran out (its worker died) is claimed again and resumes
  -- after its last committed page.
  worker_pid      integer,
  lease_until     timestamptz,
  attempts        integer NOT NULL DEFAULT 0,
  -- The window: orders changed since `since`; the watermark becomes
  -- `as_of` (minus the marketplace's lag) when the run reads every page.
  since           timestamptz,
  as_of           timestamptz,
  -- The next page to read; advanced in the transaction that stored the page.
  page_cursor     text,
  pages           integer NOT NULL DEFAULT 0,
  orders_inserted bigint NOT NULL DEFAULT 0,
  orders_updated  bigint NOT NULL DEFAULT 0,
  orders_unchanged bigint NOT NULL DEFAULT 0,
  orders_failed   bigint NOT NULL DEFAULT 0,
  http_requests   integer NOT NULL DEFAULT 0,
  throttled_waits integer NOT NULL DEFAULT 0,
  error           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sync_runs_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT sync_runs_connection_fkey FOREIGN KEY (tenant_id, connection_id)
    REFERENCES nexus.marketplace_connections (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT sync_runs_trigger_check CHECK (trigger IN ('schedule', 'manual', 'webhook')),
  CONSTRAINT sync_runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'))
);
COMMENT ON TABLE nexus.sync_runs IS
  'One row per sync of a connection: queued, running, then succeeded, failed or cancelled; kept for nexus.sync_run_retention';
-- At most one open run per connection: a second request merges into it.
CREATE UNIQUE INDEX sync_runs_open_key ON nexus.sync_runs (tenant_id, connection_id)
  WHERE status IN ('queued', 'running');
CREATE INDEX sync_runs_claim_idx ON nexus.sync_runs (not_before) WHERE status = 'queued';
CREATE INDEX sync_runs_lease_idx ON nexus.sync_runs (lease_until) WHERE status = 'running';
CREATE INDEX sync_runs_connection_idx ON nexus.sync_runs (tenant_id, connection_id, id DESC);
CREATE INDEX sync_runs_finished_idx ON nexus.sync_runs (finished_at) WHERE finished_at IS NOT NULL;

ALTER TABLE nexus.sync_runs ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('nexus.sync_runs', '');
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON nexus.sync_runs
  FOR EACH ROW EXECUTE FUNCTION nexus_private.touch_updated_at();
CREATE POLICY sync_runs_read ON nexus.sync_runs FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('sync:read'));

-- Access tokens of the marketplaces that issue them, encrypted like the
-- credentials (another AAD label): a token lives an hour at most and is
-- shared by every run of the connection until shortly before it expires.
CREATE TABLE nexus_private.access_tokens (
  tenant_id     uuid NOT NULL,
  connection_id uuid NOT NULL,
  key_version   integer NOT NULL,
  nonce         bytea NOT NULL,
  ciphertext    bytea NOT NULL,
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT access_tokens_pkey PRIMARY KEY (tenant_id, connection_id),
  CONSTRAINT access_tokens_connection_fkey FOREIGN KEY (tenant_id, connection_id)
    REFERENCES nexus.marketplace_connections (tenant_id, id) ON DELETE CASCADE
);
-- Row security with no policy: nothing but the workers (superuser) reads it.
-- Not dumped: a token is a cache, fetched again after a restore.
ALTER TABLE nexus_private.access_tokens ENABLE ROW LEVEL SECURITY;

-- A new credential makes the old token meaningless.
CREATE FUNCTION nexus_private.forget_access_token() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog
  AS $$
BEGIN
  DELETE FROM nexus_private.access_tokens WHERE tenant_id = NEW.tenant_id AND connection_id = NEW.connection_id;
  RETURN NULL;
END
$$;
CREATE TRIGGER forget_access_token AFTER INSERT OR UPDATE ON nexus_private.connection_credentials
  FOR EACH ROW EXECUTE FUNCTION nexus_private.forget_access_token();

-- Wake the sync workers when the calling transaction commits (src/syncwake.c).
CREATE FUNCTION nexus_private.wake_sync_workers() RETURNS void
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'nexus_wake_sync_workers';

CREATE FUNCTION nexus_private.notify_sync(p_tenant uuid, p_payload jsonb) RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog
  AS $$
  SELECT pg_notify('nexus_' || replace(p_tenant::text, '-', ''), p_payload::text)
$$;

-- ------------------------------------------------------------ requests

CREATE FUNCTION nexus.enqueue_due_syncs() RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
DECLARE
  n integer;
  retention interval := make_interval(days => current_setting('nexus.sync_run_retention_days')::integer);
BEGIN
  WITH due AS (
    UPDATE nexus.marketplace_connections c
       SET next_sync_at = now() + c.sync_interval
     WHERE c.next_sync_at <= now() AND c.status <> 'error'
    RETURNING c.tenant_id, c.id
  ), queued AS (
    INSERT INTO nexus.sync_runs (tenant_id, connection_id, trigger)
    SELECT tenant_id, id, 'schedule' FROM due
    ON CONFLICT (tenant_id, connection_id) WHERE status IN ('queued', 'running') DO NOTHING
    RETURNING 1
  )
  SELECT count(*) INTO n FROM queued;

  -- Retention, a bounded slice per call: pg_cron calls every minute.
  DELETE FROM nexus.sync_runs r
   WHERE (r.tenant_id, r.id) IN (SELECT tenant_id, id FROM nexus.sync_runs
                                  WHERE finished_at < now() - retention LIMIT 5000);

  IF n > 0 THEN
    PERFORM nexus_private.wake_sync_workers();
  END IF;
  RETURN n;
END
$$;
COMMENT ON FUNCTION nexus.enqueue_due_syncs() IS
  'Queue a sync run for every connection whose next_sync_at has come (what pg_cron calls every minute); returns how many were queued; never does network I/O';

CREATE FUNCTION nexus.schedule_syncs(schedule text DEFAULT '* * * * *') RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog
  AS $$
DECLARE
  job bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
    RAISE EXCEPTION 'pg_cron is not installed in this database'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'nexus.schedule_syncs() installs a pg_cron job that calls nexus.enqueue_due_syncs().',
            HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, and run CREATE EXTENSION pg_cron.';
  END IF;
  EXECUTE 'SELECT cron.schedule($1, $2, $3)'
     INTO job
    USING 'nexus-enqueue-due-syncs', schedule, 'SELECT nexus.enqueue_due_syncs()';
  RETURN job;
END
$$;
COMMENT ON FUNCTION nexus.schedule_syncs(text) IS
  'Install (or change) the pg_cron job "nexus-enqueue-due-syncs" that calls nexus.enqueue_due_syncs() on schedule (default every minute); returns the job id';

CREATE FUNCTION nexus.unschedule_syncs() RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog
  AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
    RAISE EXCEPTION 'pg_cron is not installed in this database'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'There is no schedule to remove.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM cron.job WHERE jobname = 'nexus-enqueue-due-syncs') THEN
    RETURN false;
  END IF;
  EXECUTE 'SELECT cron.unschedule($1)' USING 'nexus-enqueue-due-syncs';
  RETURN true;
END
$$;
COMMENT ON FUNCTION nexus.unschedule_syncs() IS
  'Remove the pg_cron job installed by nexus.schedule_syncs(); false when there was none';

-- The tenant and connections a caller may sync: sync:write (manager and
-- above, or a key with it) for its tenant; service_role for any connection
-- it names.
CREATE FUNCTION nexus_private.sync_targets(p_connection uuid)
  RETURNS TABLE (tenant_id uuid, connection_id uuid)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog
  AS $$
DECLARE
  tenant uuid := nexus.tenant_id('sync:write');
  service boolean := nexus_private.caller_is_service();
BEGIN
  IF tenant IS NULL AND NOT service THEN
    RAISE EXCEPTION 'permission denied to sync marketplace connections'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Syncing needs a manager, admin or owner of the tenant, or an api key with sync:write.';
  END IF;
  IF tenant IS NULL AND p_connection IS NULL THEN
    RAISE EXCEPTION 'connection_id is required here'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Without a tenant in the request, "all connections" has no meaning.',
            HINT = 'Pass the connection to sync, or call as a member of its tenant.';
  END IF;
  RETURN QUERY
  SELECT c.tenant_id, c.id
    FROM nexus.marketplace_connections c
   WHERE (tenant IS NULL OR c.tenant_id = tenant)
     AND (p_connection IS NULL OR c.id = p_connection);
  IF NOT FOUND AND p_connection IS NOT NULL THEN
    RAISE EXCEPTION 'marketplace connection % does not exist', p_connection
      USING ERRCODE = 'no_data_found',
            HINT = 'List your connections in nexus.marketplace_connections.';
  END IF;
END
$$;

CREATE FUNCTION nexus.sync_now(connection_id uuid DEFAULT NULL)
  RETURNS SETOF nexus.sync_runs
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  t record;
  r nexus.sync_runs;
BEGIN
  FOR t IN SELECT * FROM nexus_private.sync_targets(sync_now.connection_id) LOOP
    INSERT INTO nexus.sync_runs AS s (tenant_id, connection_id, trigger)
    VALUES (t.tenant_id, t.connection_id, 'manual')
    ON CONFLICT (tenant_id, connection_id) WHERE status IN ('queued', 'running') DO NOTHING
    RETURNING * INTO r;
    IF r.id IS NULL THEN
      -- Merged into the open run; "now" also cuts short a retry backoff.
      UPDATE nexus.sync_runs s SET not_before = least(s.not_before, now())
       WHERE s.tenant_id = t.tenant_id AND s.connection_id = t.connection_id
         AND s.status IN ('queued', 'running')
      RETURNING * INTO r;
    END IF;
    RETURN NEXT r;
    r := NULL;
  END LOOP;
  PERFORM nexus_private.wake_sync_workers();
END
$$;
COMMENT ON FUNCTION nexus.sync_now(uuid) IS
  'Queue a sync of one connection, or of every connection of the caller''s tenant; returns the runs (a connection with a run already queued or running gets that run back, not a second one); manager and above, a key with sync:write, or service_role';

CREATE FUNCTION nexus.cancel_sync(connection_id uuid) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  n integer;
BEGIN
  WITH t AS (SELECT * FROM nexus_private.sync_targets(cancel_sync.connection_id))
  UPDATE nexus.sync_runs r
     SET status = 'cancelled', finished_at = now(), error = 'cancelled', lease_until = NULL
    FROM t
   WHERE r.tenant_id = t.tenant_id AND r.connection_id = t.connection_id
     AND r.status IN ('queued', 'running');
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    PERFORM nexus_private.wake_sync_workers();
  END IF;
  RETURN n;
END
$$;
COMMENT ON FUNCTION nexus.cancel_sync(uuid) IS
  'Cancel the queued or running sync of a connection; a running one stops at its next page (nothing of a page is half-stored); returns the runs cancelled';

-- ------------------------------------------------------------ the workers' side

CREATE FUNCTION nexus_private.claim_sync_runs(p_worker integer, p_limit integer, p_lease interval,
                                              p_overlap interval, p_initial interval)
  RETURNS TABLE (run_id bigint, tenant_id uuid, connection_id uuid, marketplace text, region text,
                 config jsonb, since timestamptz, as_of timestamptz, page_cursor text, attempts integer)
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
BEGIN
  -- A run whose worker died with it claimed 10 times (something in it kills
  -- workers) fails rather than take every worker down again.
  WITH abandoned AS (
    UPDATE nexus.sync_runs r
       SET status = 'failed', finished_at = now(), lease_until = NULL,
           error = format('abandoned: the worker running it stopped %s times without finishing it', r.attempts)
     WHERE r.status = 'running' AND r.lease_until < now() AND r.attempts >= 10
    RETURNING r.tenant_id, r.connection_id
  )
  UPDATE nexus.marketplace_connections c
     SET consecutive_failures = c.consecutive_failures + 1, status = 'error',
         error_message = 'sync abandoned: the worker running it stopped 10 times without finishing it'
    FROM abandoned a
   WHERE c.tenant_id = a.tenant_id AND c.id = a.connection_id;

  RETURN QUERY
  WITH picked AS (
    SELECT r.tenant_id, r.id
      FROM nexus.sync_runs r
     WHERE (r.status = 'queued' AND r.not_before <= now())
        OR (r.status = 'running' AND r.lease_until < now())
     ORDER BY r.not_before, r.id
     LIMIT p_limit
       FOR UPDATE OF r SKIP LOCKED
  ), claimed AS (
    UPDATE nexus.sync_runs r
       SET status = 'running', worker_pid = p_worker, lease_until = now() + p_lease,
           attempts = r.attempts + 1, started_at = coalesce(r.started_at, now()),
           as_of = coalesce(r.as_of, now()),
           since = coalesce(r.since, greatest(c.sync_watermark - p_overlap, now() - p_initial))
      FROM picked p, nexus.marketplace_connections c
     WHERE r.tenant_id = p.tenant_id AND r.id = p.id
       AND c.tenant_id = r.tenant_id AND c.id = r.connection_id
    RETURNING r.id, r.tenant_id, r.connection_id, c.marketplace, c.region, c.config, r.since,
              r.as_of, r.page_cursor, r.attempts
  )
  SELECT * FROM claimed;
END
$$;

-- One notification per tenant for a batch of claimed runs.
CREATE FUNCTION nexus_private.notify_sync_started(p_runs bigint[]) RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog
  AS $$
  SELECT nexus_private.notify_sync(r.tenant_id,
           jsonb_build_object('event', 'sync.started', 'count', count(*),
                              'runs', (array_agg(r.id ORDER BY r.id))[1:20]))
    FROM nexus.sync_runs r
   WHERE r.id = ANY (p_runs)
   GROUP BY r.tenant_id
$$;

-- A stored page: advance the run's cursor and counters in the transaction
-- that stored the orders.  false when the run is no longer this worker's
-- (cancelled, or claimed again after its lease ran out): the caller rolls
-- back.
CREATE FUNCTION nexus_private.sync_page_done(p_tenant uuid, p_run bigint, p_worker integer,
                                             p_cursor text, p_inserted bigint, p_updated bigint,
                                             p_unchanged bigint, p_failed bigint,
                                             p_requests integer, p_throttled integer,
                                             p_lease interval)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog
  AS $$
DECLARE
  conn uuid;
BEGIN
  UPDATE nexus.sync_runs r
     SET page_cursor = p_cursor, pages = r.pages + 1,
         orders_inserted = r.orders_inserted + p_inserted,
         orders_updated = r.orders_updated + p_updated,
         orders_unchanged = r.orders_unchanged + p_unchanged,
         orders_failed = r.orders_failed + p_failed,
         http_requests = r.http_requests + p_requests,
         throttled_waits = r.throttled_waits + p_throttled,
         lease_until = now() + p_lease
   WHERE r.tenant_id = p_tenant AND r.id = p_run AND r.status = 'running' AND r.worker_pid = p_worker
  RETURNING r.connection_id INTO conn;
  IF conn IS NULL THEN
    RETURN false;
  END IF;
  UPDATE nexus.marketplace_connections c SET status = 'active'
   WHERE c.tenant_id = p_tenant AND c.id = conn AND c.status = 'rate_limited';
  RETURN true;
END
$$;

-- The marketplace asked to wait: show it on the connection and keep the lease.
CREATE FUNCTION nexus_private.sync_throttled(p_tenant uuid, p_run bigint, p_worker integer,
                                             p_until timestamptz, p_lease interval)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog
  AS $$
DECLARE
  conn uuid;
BEGIN
  UPDATE nexus.sync_runs r
     SET throttled_waits = r.throttled_waits + 1,
         lease_until = greatest(now(), p_until) + p_lease
   WHERE r.tenant_id = p_tenant AND r.id = p_run AND r.status = 'running' AND r.worker_pid = p_worker
  RETURNING r.connection_id INTO conn;
  IF conn IS NULL THEN
    RETURN false;
  END IF;
  UPDATE nexus.marketplace_connections c SET status = 'rate_limited'
   WHERE c.tenant_id = p_tenant AND c.id = conn AND c.status IN ('active', 'pending');
  RETURN true;
END
$$;

-- Keep the claims of a worker's running runs; returns those still its own.
CREATE FUNCTION nexus_private.renew_sync_leases(p_worker integer, p_runs bigint[], p_lease interval)
  RETURNS bigint[]
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog
  AS $$
  WITH renewed AS (
    UPDATE nexus.sync_runs r SET lease_until = greatest(r.lease_until, now() + p_lease)
     WHERE r.id = ANY (p_runs) AND r.status = 'running' AND r.worker_pid = p_worker
    RETURNING r.id
  )
  SELECT coalesce(array_agg(id), '{}') FROM renewed
$$;

-- A worker that stops hands its runs back: they resume after their last
-- stored page, on whichever worker claims them first.
CREATE FUNCTION nexus_private.release_sync_runs(p_worker integer, p_runs bigint[]) RETURNS integer
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog
  AS $$
  WITH released AS (
    UPDATE nexus.sync_runs r
       SET status = 'queued', worker_pid = NULL, lease_until = NULL, not_before = now()
     WHERE r.id = ANY (p_runs) AND r.status = 'running' AND r.worker_pid = p_worker
    RETURNING 1
  )
  SELECT count(*)::integer FROM released
$$;

-- A new access token for a connection (encrypted by the worker).
CREATE FUNCTION nexus_private.save_access_token(p_tenant uuid, p_connection uuid, p_version integer,
                                                p_nonce bytea, p_ciphertext bytea, p_expires timestamptz)
  RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog
  AS $$
  INSERT INTO nexus_private.access_tokens AS t (tenant_id, connection_id, key_version, nonce, ciphertext, expires_at)
  VALUES (p_tenant, p_connection, p_version, p_nonce, p_ciphertext, p_expires)
  ON CONFLICT (tenant_id, connection_id) DO UPDATE
     SET key_version = EXCLUDED.key_version, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext,
         expires_at = EXCLUDED.expires_at, created_at = now()
$$;

-- The end of a run.  kind: 'ok', 'credentials' (the marketplace refused
-- them: the connection goes to error at once), 'failed' (retries used up;
-- error after nexus.sync_max_failures runs in a row).
CREATE FUNCTION nexus_private.finish_sync_run(p_tenant uuid, p_run bigint, p_worker integer,
                                              p_kind text, p_error text, p_watermark timestamptz,
                                              p_requests integer, p_max_failures integer)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog
  AS $$
DECLARE
  r nexus.sync_runs;
BEGIN
  UPDATE nexus.sync_runs s
     SET status = CASE p_kind WHEN 'ok' THEN 'succeeded' ELSE 'failed' END,
         finished_at = now(), error = p_error, lease_until = NULL,
         http_requests = s.http_requests + p_requests
   WHERE s.tenant_id = p_tenant AND s.id = p_run AND s.status = 'running' AND s.worker_pid = p_worker
  RETURNING * INTO r;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  IF p_kind = 'ok' THEN
    UPDATE nexus.marketplace_connections c
       SET status = 'active', consecutive_failures = 0, error_message = NULL, last_synced_at = now(),
           sync_watermark = greatest(c.sync_watermark, p_watermark)
     WHERE c.tenant_id = p_tenant AND c.id = r.connection_id;
  ELSE
    UPDATE nexus.marketplace_connections c
       SET consecutive_failures = c.consecutive_failures + 1,
           error_message = p_error,
           status = CASE WHEN p_kind = 'credentials' OR c.consecutive_failures + 1 >= p_max_failures
                         THEN 'error'
                         WHEN c.status = 'rate_limited' THEN 'active'
                         ELSE c.status END
     WHERE c.tenant_id = p_tenant AND c.id = r.connection_id;
  END IF;
  PERFORM nexus_private.notify_sync(p_tenant,
            jsonb_build_object('event', 'sync.finished', 'run', r.id, 'connection_id', r.connection_id,
                               'status', r.status, 'inserted', r.orders_inserted,
                               'updated', r.orders_updated));
  RETURN true;
END
$$;

-- ------------------------------------------------------------ what to look at

CREATE FUNCTION nexus_private.worker_status(
    OUT worker integer, OUT pid integer, OUT state text, OUT runs integer, OUT in_flight integer,
    OUT requests bigint, OUT pages bigint, OUT orders bigint, OUT last_error text,
    OUT last_error_at timestamptz, OUT started_at timestamptz)
  RETURNS SETOF record
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'nexus_worker_status';

CREATE VIEW nexus.worker_status AS
SELECT w.*, b.backlog
  FROM (SELECT count(*) AS backlog FROM nexus.sync_runs r
         WHERE r.status = 'queued' AND r.not_before <= now()) b
  LEFT JOIN nexus_private.worker_status() w ON true;
COMMENT ON VIEW nexus.worker_status IS
  'Each sync worker: its state, runs and transfers in flight, totals and last error; backlog = runs due and not yet claimed (one row with no worker when none runs)';

CREATE VIEW nexus.connection_health WITH (security_invoker = true) AS
SELECT c.tenant_id, c.id AS connection_id, c.marketplace, c.account_name, c.status,
       c.last_synced_at, c.consecutive_failures, c.error_message,
       h.runs, h.succeeded, h.failed, h.last_run_status, h.last_run_at,
       CASE
         WHEN c.status = 'error' OR h.last_run_status = 'failed' THEN 'unhealthy'
         WHEN h.failed > 0 OR c.status = 'rate_limited' THEN 'degraded'
         WHEN h.runs > 0 THEN 'healthy'
         ELSE 'unknown'
       END AS health
  FROM nexus.marketplace_connections c
  LEFT JOIN LATERAL (
    SELECT count(*) AS runs,
           count(*) FILTER (WHERE r.status = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE r.status = 'failed') AS failed,
           (array_agg(r.status ORDER BY r.id DESC))[1] AS last_run_status,
           max(r.finished_at) AS last_run_at
      FROM (SELECT r.id, r.status, r.finished_at
              FROM nexus.sync_runs r
             WHERE r.tenant_id = c.tenant_id AND r.connection_id = c.id
               AND r.status IN ('succeeded', 'failed')
             ORDER BY r.id DESC
             LIMIT current_setting('nexus.health_window')::integer) r
  ) h ON true;
COMMENT ON VIEW nexus.connection_health IS
  'Per connection: healthy, degraded or unhealthy over its last nexus.health_window finished runs (unknown before the first)';
