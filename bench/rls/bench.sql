-- bench/rls/bench.sql: check, then time, the three variants of setup.sql.
--
-- Every query runs inside an emulated PostgREST request, one transaction
-- each: SET LOCAL ROLE authenticated, request.jwt.claims of the tenant's
-- owner, request.headers '{}', nexus.pre_request(), then the query.  Only
-- the query itself is timed (clock_timestamp() around it); the request set-up
-- is timed separately, as information.
--
-- Two modes:
--   literal  EXECUTE of a query string: parsed, rewritten and planned every
--            time (PostgREST without prepared statements); the baseline has
--            WHERE tenant_id = '<literal>'.  The RATIO lines use this mode.
--   cached   static SQL in plpgsql: the plan is cached across requests
--            (PostgREST with prepared statements); the baseline's tenant is
--            a parameter.  Reported as information.
--
-- A round runs each variant `per` times in a row over the same tenants; the
-- order of the variants rotates from round to round.  A variant's figure is
-- the median over rounds of its mean time per query in the round.
--
-- psql variables: rounds, per, ratio_file, timing_file (set by run.sh).

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TABLE IF NOT EXISTS public.bench_timing (
  mode     text,
  shape    text,
  variant  text,
  round    int,
  nq       int,
  query_s  float8,		-- sum of query times in the round
  setup_s  float8		-- sum of request set-up times (role, claims, pre_request)
);
TRUNCATE public.bench_timing;

-- The emulated PostgREST request: transaction-local role and settings.
CREATE OR REPLACE PROCEDURE public.bench_begin_request(p_claims text)
  LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL ROLE authenticated;
  PERFORM set_config('request.jwt.claims', p_claims, true);
  PERFORM set_config('request.headers', '{}', true);
  PERFORM nexus.pre_request();
END
$$;

CREATE OR REPLACE FUNCTION public.bench_query(p_variant text, p_shape text, p_tenant uuid)
  RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT format('SELECT %s FROM public.bench_orders_%s%s%s',
                CASE p_shape WHEN 'count' THEN 'count(*)' ELSE '*' END,
                p_variant,
                CASE WHEN p_variant = 'norls' THEN format(' WHERE tenant_id = %L', p_tenant) ELSE '' END,
                CASE p_shape WHEN 'page' THEN ' ORDER BY ordered_at DESC LIMIT 50' ELSE '' END)
$$;

----------------------------------------------------------------------------
-- 1. Correctness: every variant gives every tenant the same answer.
----------------------------------------------------------------------------
CREATE OR REPLACE PROCEDURE public.bench_validate()
  LANGUAGE plpgsql AS $$
DECLARE
  variants text[] := ARRAY['norls', 'nexus', 'supabase'];
  t record;
  cnt bigint;
  page text;
  base_cnt bigint;
  base_page text;
  bad int := 0;
  nreq int := 0;
BEGIN
  FOR t IN SELECT * FROM public.bench_tenants bt ORDER BY bt.n LOOP
    base_cnt := NULL;
    FOR v IN 1..3 LOOP
      CALL public.bench_begin_request(t.claims);
      EXECUTE public.bench_query(variants[v], 'count', t.tenant_id) INTO cnt;
      EXECUTE format('SELECT md5(string_agg(p::text, E''\n'' ORDER BY p.ordered_at DESC)) FROM (%s) p',
                     public.bench_query(variants[v], 'page', t.tenant_id)) INTO page;
      COMMIT;
      IF v = 1 THEN
        base_cnt := cnt;
        base_page := page;
        IF cnt <> 10000 THEN
          RAISE WARNING 'tenant %: baseline count % (expected 10000)', t.n, cnt;
          bad := bad + 1;
        END IF;
      ELSIF cnt IS DISTINCT FROM base_cnt OR page IS DISTINCT FROM base_page THEN
        RAISE WARNING 'tenant %: % gives count % page %, baseline gives count % page %',
          t.n, variants[v], cnt, page, base_cnt, base_page;
        bad := bad + 1;
      END IF;
      nreq := nreq + 1;
    END LOOP;
  END LOOP;

  -- RLS must actually filter: a user who is not a member sees nothing
  -- through nexus, and neither does a request without claims.
  FOR v IN 2..3 LOOP
    CALL public.bench_begin_request('');
    EXECUTE public.bench_query(variants[v], 'count', NULL) INTO cnt;
    COMMIT;
    IF cnt <> 0 THEN
      RAISE WARNING '% without claims sees % rows', variants[v], cnt;
      bad := bad + 1;
    END IF;
  END LOOP;
  SELECT json_build_object('sub', md5('not-a-member')::uuid, 'role', 'authenticated',
                           'app_metadata', json_build_object('tenant_id', bt.tenant_id))::text
    INTO page
    FROM public.bench_tenants bt WHERE bt.n = 1;
  CALL public.bench_begin_request(page);
  SELECT count(*) INTO cnt FROM public.bench_orders_nexus;
  COMMIT;
  IF cnt <> 0 THEN
    RAISE WARNING 'nexus: a non-member sees % rows', cnt;
    bad := bad + 1;
  END IF;

  IF bad > 0 THEN
    RAISE EXCEPTION 'bench: % mismatches between variants; the timings would compare different answers', bad;
  END IF;
  RAISE NOTICE 'check: % tenant x variant requests agree (count and page md5), RLS filters non-members', nreq;
END
$$;

----------------------------------------------------------------------------
-- 2. Timing.
----------------------------------------------------------------------------
CREATE OR REPLACE PROCEDURE public.bench_time(p_mode text, p_rounds int, p_per int)
  LANGUAGE plpgsql AS $$
DECLARE
  variants text[] := ARRAY['norls', 'nexus', 'supabase'];
  shapes text[] := ARRAY['count', 'page'];
  tids uuid[];
  claimv text[];
  tid uuid;
  ntenants int;
  v text;
  s text;
  ti int;
  q text;
  cnt bigint;
  rc bigint;
  t_req timestamptz;
  t0 timestamptz;
  t1 timestamptz;
  qsum float8;
  ssum float8;
BEGIN
  SELECT array_agg(bt.tenant_id ORDER BY bt.n), array_agg(bt.claims ORDER BY bt.n), count(*)
    INTO tids, claimv, ntenants
    FROM public.bench_tenants bt;

  FOR r IN 0..p_rounds LOOP		-- round 0 warms up and is not kept
    FOR si IN 1..2 LOOP
      s := shapes[si];
      FOR vi IN 0..2 LOOP
        v := variants[1 + (vi + r) % 3];
        qsum := 0;
        ssum := 0;
        FOR k IN 0..p_per - 1 LOOP
          ti := 1 + (r * p_per + k) % ntenants;
          tid := tids[ti];
          q := public.bench_query(v, s, tid);
          t_req := clock_timestamp();
          CALL public.bench_begin_request(claimv[ti]);
          IF p_mode = 'literal' THEN
            IF s = 'count' THEN
              t0 := clock_timestamp();
              EXECUTE q INTO cnt;
              t1 := clock_timestamp();
              rc := 1;
            ELSE
              t0 := clock_timestamp();
              EXECUTE q;
              t1 := clock_timestamp();
              GET DIAGNOSTICS rc = ROW_COUNT;
              cnt := 10000;
            END IF;
          ELSE
            -- Static SQL: plpgsql caches one plan per statement.
            IF s = 'count' THEN
              IF v = 'norls' THEN
                t0 := clock_timestamp();
                SELECT count(*) INTO cnt FROM public.bench_orders_norls WHERE tenant_id = tid;
                t1 := clock_timestamp();
              ELSIF v = 'nexus' THEN
                t0 := clock_timestamp();
                SELECT count(*) INTO cnt FROM public.bench_orders_nexus;
                t1 := clock_timestamp();
              ELSE
                t0 := clock_timestamp();
                SELECT count(*) INTO cnt FROM public.bench_orders_supabase;
                t1 := clock_timestamp();
              END IF;
              rc := 1;
            ELSE
              IF v = 'norls' THEN
                t0 := clock_timestamp();
                PERFORM * FROM public.bench_orders_norls WHERE tenant_id = tid
                  ORDER BY ordered_at DESC LIMIT 50;
                t1 := clock_timestamp();
              ELSIF v = 'nexus' THEN
                t0 := clock_timestamp();
                PERFORM * FROM public.bench_orders_nexus ORDER BY ordered_at DESC LIMIT 50;
                t1 := clock_timestamp();
              ELSE
                t0 := clock_timestamp();
                PERFORM * FROM public.bench_orders_supabase ORDER BY ordered_at DESC LIMIT 50;
                t1 := clock_timestamp();
              END IF;
              GET DIAGNOSTICS rc = ROW_COUNT;
              cnt := 10000;
            END IF;
          END IF;
          COMMIT;
          IF cnt <> 10000 OR (s = 'page' AND rc <> 50) THEN
            RAISE EXCEPTION 'bench: % % % for tenant % returned count % / % rows', p_mode, s, v, ti, cnt, rc;
          END IF;
          qsum := qsum + extract(epoch FROM t1 - t0);
          ssum := ssum + extract(epoch FROM t0 - t_req);
        END LOOP;
        IF r > 0 THEN
          INSERT INTO public.bench_timing VALUES (p_mode, s, v, r, p_per, qsum, ssum);
        END IF;
        COMMIT;
      END LOOP;
    END LOOP;
  END LOOP;
END
$$;

\echo '== check'
CALL public.bench_validate();

\echo '== timing (mode literal)'
CALL public.bench_time('literal', :rounds, :per);
\echo '== timing (mode cached)'
CALL public.bench_time('cached', :rounds, :per);

----------------------------------------------------------------------------
-- 3. Report.
----------------------------------------------------------------------------
CREATE TEMP VIEW per_round AS
  SELECT mode, shape, variant, round, query_s * 1000 / nq AS q_ms, setup_s * 1000 / nq AS s_ms
    FROM public.bench_timing;
CREATE TEMP VIEW summary AS
  SELECT mode, shape, variant, count(*) AS rounds,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY q_ms) AS med_ms,
         min(q_ms) AS min_ms,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s_ms) AS setup_ms
    FROM per_round GROUP BY 1, 2, 3;
-- Ratios within a round (same tenants, adjacent in time), then their median.
CREATE TEMP VIEW paired AS
  SELECT v.mode, v.shape, v.variant,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY v.q_ms / b.q_ms) AS med_paired
    FROM per_round v JOIN per_round b USING (mode, shape, round)
   WHERE b.variant = 'norls'
   GROUP BY 1, 2, 3;
CREATE TEMP VIEW ratios AS
  SELECT s.mode, s.shape, s.variant, s.med_ms, s.min_ms, s.setup_ms,
         s.med_ms / b.med_ms AS r_med, s.min_ms / b.min_ms AS r_min, p.med_paired
    FROM summary s
    JOIN summary b ON b.mode = s.mode AND b.shape = s.shape AND b.variant = 'norls'
    JOIN paired p ON p.mode = s.mode AND p.shape = s.shape AND p.variant = s.variant;

\echo '== results: ms per query (median and min over rounds of the per-round mean); ratio to no-RLS'
\pset footer off
SELECT mode, shape, variant,
       to_char(med_ms, 'FM990.0000') AS median_ms,
       to_char(min_ms, 'FM990.0000') AS min_ms,
       to_char(r_med, 'FM990.00') AS ratio_median,
       to_char(r_min, 'FM990.00') AS ratio_min,
       to_char(med_paired, 'FM990.00') AS ratio_paired,
       to_char(setup_ms, 'FM990.0000') AS request_setup_ms
  FROM ratios
 ORDER BY mode DESC, shape, array_position(ARRAY['norls', 'nexus', 'supabase'], variant);

\o :timing_file
COPY public.bench_timing TO STDOUT WITH (FORMAT csv, HEADER);
\o

\pset tuples_only on
\pset format unaligned
\o :ratio_file
SELECT format('RATIO %s %s target %s',
              CASE variant WHEN 'nexus' THEN 'rls_' ELSE 'supabase_unwrapped_' END || shape,
              to_char(r_med, 'FM990.00'),
              CASE variant WHEN 'nexus' THEN '<= 1.1' ELSE 'info' END)
  FROM ratios
 WHERE mode = 'literal' AND variant <> 'norls'
 ORDER BY variant = 'supabase', shape;
\o
