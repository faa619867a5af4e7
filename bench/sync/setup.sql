-- bench/sync/setup.sql: tenants, connections and the helpers of the sync
-- benchmark (setup, not timed).
--
-- psql variables: tenants (how many tenants share the connections),
-- conn_file and exp_file (written by accounts.js; read by the server).
-- Run as a superuser, once, on an empty database.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE EXTENSION pg_cron;
CREATE EXTENSION nexus;

CREATE SCHEMA bench;

-- The simulator's accounts, one connection each (accounts.js).
CREATE TABLE bench.conn (
  n             integer PRIMARY KEY,
  marketplace   text NOT NULL,
  account_name  text NOT NULL,
  sim_account   text NOT NULL,
  credentials   jsonb NOT NULL,
  config        jsonb NOT NULL,
  region        text,
  tenant_id     uuid,
  connection_id uuid
);
COPY bench.conn (n, marketplace, account_name, sim_account, credentials, config, region) FROM :'conn_file';

-- Every order the simulator holds, as GET /_sim/accounts/<id>/orders says.
CREATE TABLE bench.expected (
  n                 integer NOT NULL,
  external_order_id text NOT NULL,
  updated_at        timestamptz NOT NULL,
  items             integer NOT NULL
);
COPY bench.expected FROM :'exp_file';
ALTER TABLE bench.expected ADD PRIMARY KEY (n, external_order_id);
ANALYZE bench.conn, bench.expected;

-- The tenants, each with its owner, created the supported way; connection n
-- belongs to tenant (n - 1) % tenants + 1.
CREATE TABLE bench.tenant (
  k         integer PRIMARY KEY,
  owner     uuid NOT NULL,
  tenant_id uuid NOT NULL
);
INSERT INTO bench.tenant (k, owner, tenant_id)
SELECT k, o, (nexus.create_tenant('Sync bench ' || k, 'sync-bench-' || k, o)).tenant_id
  FROM generate_series(1, :tenants) k,
       LATERAL (SELECT format('00000000-0000-4000-8000-%s', lpad(k::text, 12, '0'))::uuid AS o) x;

-- The connections, made by connect_marketplace as each tenant's owner (the
-- way test/integration/lib/sync.sh connect() does): credentials validated
-- and stored encrypted.
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT b.*, t.owner, t.tenant_id AS t_id
             FROM bench.conn b
             JOIN bench.tenant t ON t.k = (b.n - 1) % (SELECT count(*) FROM bench.tenant) + 1
            ORDER BY b.n LOOP
    PERFORM set_config('request.jwt.claims',
                       json_build_object('sub', c.owner,
                                         'app_metadata', json_build_object('tenant_id', c.t_id))::text, true);
    UPDATE bench.conn
       SET tenant_id = c.t_id,
           connection_id = nexus.connect_marketplace(c.marketplace, c.account_name, c.credentials, c.config,
                                                     region => c.region)
     WHERE n = c.n;
  END LOOP;
  PERFORM set_config('request.jwt.claims', '', true);
END
$$;
CREATE UNIQUE INDEX ON bench.conn (connection_id);

-- One row per timed pass.
CREATE TABLE bench.passes (
  label      text PRIMARY KEY,
  workers    integer NOT NULL,
  first_run  bigint NOT NULL,		-- runs of the pass: id >= first_run
  queued_at  timestamptz NOT NULL,
  samples    integer,
  max_in_flight integer,
  avg_in_flight numeric,
  avg_runs   numeric,
  max_anon_kb bigint		-- the workers' private memory (RssAnon, summed), sampled
);

-- History: older orders already stored on every connection (one item
-- each, external ids 'H-<n>-<i>', never on the simulator), so that a pass
-- writes into a store in its steady state, with statistics that know the
-- tenants and their connections, as autovacuum keeps them.  Without them
-- PostgreSQL plans the foreign-key check of every item insert on an empty
-- orders table, may pick an index on tenant_id alone, and keeps that plan
-- while the table grows: every check then reads the whole tenant
-- (bench/ingest/setup.sql says the same).
CREATE PROCEDURE bench.add_history(p_per_connection integer)
  LANGUAGE sql
  AS $$
  INSERT INTO nexus.orders (tenant_id, connection_id, marketplace, external_order_id, order_number,
                            status, marketplace_status, fulfillment_method, currency, subtotal, tax_total,
                            shipping_total, discount_total, total_amount, buyer_name, buyer_email,
                            ship_country, shipping_address, ordered_at, marketplace_updated_at, content_hash)
  SELECT b.tenant_id, b.connection_id, b.marketplace, format('H-%s-%s', b.n, g), '#H' || g,
         'delivered', 'delivered', 'FBM', 'EUR', a, round(a * 0.16, 2), 0, 0, a,
         'Buyer ' || g, format('buyer-%s-%s@example.com', b.n, g), 'DE',
         jsonb_build_object('name', 'Buyer ' || g, 'city', 'Berlin'),
         t, t + interval '2 days', decode(md5(format('H-%s-%s', b.n, g)), 'hex')
    FROM bench.conn b
   CROSS JOIN generate_series(1, p_per_connection) g
   CROSS JOIN LATERAL (SELECT round(((g * 7919 + b.n) % 30000 + 500) / 100.0, 2) AS a,
                              timestamptz '2024-01-01 00:00:00+00' + (g * 97 + b.n) * interval '11 minutes' AS t) x
   ORDER BY t;
  INSERT INTO nexus.order_items (tenant_id, order_id, line_no, external_item_id, sku, title, quantity,
                                 unit_price, line_total)
  SELECT o.tenant_id, o.id, 1, o.external_order_id || '-1', 'SKU-H', 'Item', 1, o.total_amount, o.total_amount
    FROM nexus.orders o
   WHERE o.external_order_id LIKE 'H-%';
$$;

-- Before a pass: the next sync of every connection lists everything from
-- the start (nexus.sync_initial_days back), with no cached access token
-- (each pass asks for the same tokens); when fresh, only the history is
-- left, so every order on the simulator is new again.  run.sh then
-- vacuums, analyzes and checkpoints, so that the statistics are current
-- and no checkpoint falls inside the pass.
CREATE PROCEDURE bench.reset(fresh boolean, history integer)
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF fresh THEN
    TRUNCATE nexus.orders, nexus.order_items;
    IF history > 0 THEN
      CALL bench.add_history(history);
    END IF;
  END IF;
  DELETE FROM nexus_private.access_tokens;
  UPDATE nexus.marketplace_connections SET sync_watermark = NULL, status = 'active';
END
$$;

-- The timed part starts: one statement queues a run for every connection
-- (nexus.sync_now, which wakes the workers at commit).
CREATE PROCEDURE bench.queue(p_label text, p_workers integer)
  LANGUAGE plpgsql
  AS $$
DECLARE
  first bigint;
  n integer;
BEGIN
  SELECT coalesce(max(id), 0) + 1 INTO first FROM nexus.sync_runs;
  INSERT INTO bench.passes (label, workers, first_run, queued_at) VALUES (p_label, p_workers, first, now());
  SELECT count(*) INTO n FROM bench.conn b, LATERAL nexus.sync_now(b.connection_id) s;
  IF n <> (SELECT count(*) FROM bench.conn) THEN
    RAISE EXCEPTION 'queued % runs, expected %', n, (SELECT count(*) FROM bench.conn);
  END IF;
END
$$;

-- Until every run of the pass has finished, sampling the workers every
-- 200 ms; commits between samples, so it holds no snapshot back.
CREATE PROCEDURE bench.wait_done(p_label text, p_timeout_s integer)
  LANGUAGE plpgsql
  AS $$
DECLARE
  first bigint;
  deadline timestamptz := clock_timestamp() + make_interval(secs => p_timeout_s);
  open_runs bigint;
  fl bigint;
  rn bigint;
  k integer := 0;
  mx integer := 0;
  sf numeric := 0;
  sr numeric := 0;
  anon bigint;
  max_anon bigint := 0;
BEGIN
  SELECT first_run INTO first FROM bench.passes WHERE label = p_label;
  LOOP
    SELECT count(*) INTO open_runs FROM nexus.sync_runs
     WHERE status IN ('queued', 'running') AND id >= first;
    EXIT WHEN open_runs = 0;
    IF clock_timestamp() > deadline THEN
      RAISE EXCEPTION '% runs still open after % s', open_runs, p_timeout_s;
    END IF;
    SELECT coalesce(sum(in_flight), 0), coalesce(sum(runs), 0) INTO fl, rn FROM nexus.worker_status;
    -- Private memory of the workers: their RSS without the shared buffers
    -- they touched (which VmHWM counts).
    SELECT sum(substring(pg_read_file('/proc/' || pid || '/status') FROM 'RssAnon:\s+(\d+) kB')::bigint)
      INTO anon FROM nexus.worker_status WHERE pid IS NOT NULL;
    max_anon := greatest(max_anon, coalesce(anon, 0));
    k := k + 1;
    mx := greatest(mx, fl::integer);
    sf := sf + fl;
    sr := sr + rn;
    COMMIT;
    PERFORM pg_sleep(0.2);
    COMMIT;
  END LOOP;
  UPDATE bench.passes
     SET samples = k, max_in_flight = mx,
         avg_in_flight = round(sf / greatest(k, 1), 1), avg_runs = round(sr / greatest(k, 1), 1),
         max_anon_kb = max_anon
   WHERE label = p_label;
END
$$;

-- A pass's numbers, from nexus.sync_runs: the window is from the queueing
-- transaction to the last run's finish.
CREATE VIEW bench.pass_result AS
SELECT p.label, p.workers, p.samples, p.max_in_flight, p.avg_in_flight, p.avg_runs,
       count(r.*) AS runs,
       count(*) FILTER (WHERE r.status = 'succeeded') AS succeeded,
       coalesce(sum(r.pages), 0) AS pages,
       coalesce(sum(r.http_requests), 0) AS requests,
       coalesce(sum(r.orders_inserted), 0) AS inserted,
       coalesce(sum(r.orders_updated), 0) AS updated,
       coalesce(sum(r.orders_unchanged), 0) AS unchanged,
       coalesce(sum(r.orders_failed), 0) AS failed,
       coalesce(sum(r.throttled_waits), 0) AS throttled,
       coalesce(sum(r.attempts), 0) AS attempts,
       extract(epoch FROM max(r.finished_at) - p.queued_at)::numeric AS seconds
  FROM bench.passes p
  LEFT JOIN nexus.sync_runs r ON r.id >= p.first_run
   AND r.id < coalesce((SELECT min(q.first_run) FROM bench.passes q WHERE q.first_run > p.first_run), 9223372036854775807)
 GROUP BY p.label, p.workers, p.samples, p.max_in_flight, p.avg_in_flight, p.avg_runs, p.queued_at;

-- What nexus holds against what the simulator holds: every order once, with
-- the simulator's last-modified time and item count, and nothing else
-- (besides the history).
-- Returns the differences (empty when they agree).
CREATE FUNCTION bench.differences(lim integer DEFAULT 10) RETURNS SETOF text
  LANGUAGE sql
  AS $$
  WITH n AS (
    SELECT b.n, o.external_order_id, o.marketplace_updated_at AS updated_at,
           (SELECT count(*) FROM nexus.order_items i WHERE i.tenant_id = o.tenant_id AND i.order_id = o.id) AS items
      FROM nexus.orders o JOIN bench.conn b ON b.connection_id = o.connection_id AND b.tenant_id = o.tenant_id
     WHERE o.external_order_id NOT LIKE 'H-%'
  )
  SELECT format('connection %s order %s: %s', coalesce(e.n, n.n), coalesce(e.external_order_id, n.external_order_id),
                CASE WHEN n.external_order_id IS NULL THEN 'missing in nexus'
                     WHEN e.external_order_id IS NULL THEN 'not on the simulator'
                     WHEN e.updated_at IS DISTINCT FROM n.updated_at
                       THEN format('updated_at %s in nexus, %s on the simulator', n.updated_at, e.updated_at)
                     ELSE format('%s items in nexus, %s on the simulator', n.items, e.items) END)
    FROM bench.expected e FULL JOIN n USING (n, external_order_id)
   WHERE e.external_order_id IS NULL OR n.external_order_id IS NULL
      OR e.updated_at IS DISTINCT FROM n.updated_at OR e.items <> n.items
   LIMIT lim
$$;
