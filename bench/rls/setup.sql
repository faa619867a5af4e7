-- bench/rls/setup.sql: data for the row-level-security benchmark.
--
-- 100 tenants (nexus.create_tenant, one owner per tenant), and three copies
-- of the same 1,000,000 orders (10,000 per tenant, ~170-byte rows):
--   bench_orders_norls     no RLS (the baseline filters on a literal tenant)
--   bench_orders_nexus     RLS: tenant_id = nexus.tenant_id('orders:read') (nexus's own policy form)
--   bench_orders_supabase  RLS: Supabase's documented pattern, unwrapped auth.jwt()
-- Run as a superuser, once, on an empty database.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET synchronize_seqscans = off;		-- the copies must keep the same physical order
SET max_parallel_workers_per_gather = 0;

CREATE EXTENSION IF NOT EXISTS nexus;

-- Supabase's auth.jwt(), as in supabase/postgres (migrations/db/init-scripts).
CREATE SCHEMA IF NOT EXISTS auth;
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
  LANGUAGE sql STABLE
  AS $$
  select
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;
GRANT USAGE ON SCHEMA auth TO authenticated;
GRANT EXECUTE ON FUNCTION auth.jwt() TO authenticated;

-- Tenants: n, id, owner.  Owner ids are deterministic so reruns compare.
CREATE TABLE public.bench_tenants (
  n         int PRIMARY KEY,
  tenant_id uuid NOT NULL UNIQUE,
  owner_id  uuid NOT NULL,
  claims    text NOT NULL			-- the JWT claims PostgREST would set for the owner
);

INSERT INTO public.bench_tenants (n, tenant_id, owner_id, claims)
SELECT g.n, t.tenant_id, g.owner_id,
       json_build_object('sub', g.owner_id, 'role', 'authenticated',
                         'app_metadata', json_build_object('tenant_id', t.tenant_id))::text
  FROM (SELECT n, md5('bench-owner-' || n)::uuid AS owner_id
          FROM generate_series(1, 100) n) g
 CROSS JOIN LATERAL nexus.create_tenant(format('Bench tenant %s', g.n),
                                         format('bench-%s', lpad(g.n::text, 3, '0')),
                                         g.owner_id) t;
GRANT SELECT ON public.bench_tenants TO authenticated;

-- One table definition, three copies.
CREATE TABLE public.bench_orders_norls (
  tenant_id  uuid NOT NULL,
  id         bigint,
  status     text,
  total      numeric(14,2),
  ordered_at timestamptz,
  payload    text
);

-- Orders arrive interleaved across tenants (sorted by time), as in a real
-- shop database, so one tenant's rows are spread over the heap.  ordered_at
-- is unique within a tenant (3137 is prime to 10000), so "the last 50" is
-- one well-defined page for every variant.
INSERT INTO public.bench_orders_norls
SELECT t.tenant_id,
       i,
       (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'])[1 + (i * 7 + t.n) % 6],
       round(((i * 7919 + t.n * 104729) % 100000) / 100.0 + 1, 2),
       timestamptz '2023-01-01 00:00:00+00'
         + ((i * 3137) % 10000) * interval '1 hour' + t.n * interval '1 second',
       'sku=' || upper(substr(md5(i::text || t.n), 1, 10)) || ';qty=' || (1 + i % 9)
         || ';note=' || md5(t.n || ':' || i) || md5(i || ':' || t.n)
  FROM public.bench_tenants t
 CROSS JOIN generate_series(1, 10000) i
 ORDER BY 5, t.n;

CREATE TABLE public.bench_orders_nexus (LIKE public.bench_orders_norls INCLUDING ALL);
CREATE TABLE public.bench_orders_supabase (LIKE public.bench_orders_norls INCLUDING ALL);
INSERT INTO public.bench_orders_nexus SELECT * FROM public.bench_orders_norls;
INSERT INTO public.bench_orders_supabase SELECT * FROM public.bench_orders_norls;

ALTER TABLE public.bench_orders_norls ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE public.bench_orders_nexus ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE public.bench_orders_supabase ADD PRIMARY KEY (tenant_id, id);
CREATE INDEX bench_orders_norls_tenant_ordered ON public.bench_orders_norls (tenant_id, ordered_at);
CREATE INDEX bench_orders_nexus_tenant_ordered ON public.bench_orders_nexus (tenant_id, ordered_at);
CREATE INDEX bench_orders_supabase_tenant_ordered ON public.bench_orders_supabase (tenant_id, ordered_at);

ALTER TABLE public.bench_orders_nexus ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_orders_nexus_read ON public.bench_orders_nexus
  FOR SELECT TO authenticated
  USING (tenant_id = nexus.tenant_id('orders:read'));

ALTER TABLE public.bench_orders_supabase ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_orders_supabase_read ON public.bench_orders_supabase
  FOR SELECT TO authenticated
  USING (tenant_id = ((auth.jwt() -> 'app_metadata' ->> 'tenant_id')::uuid));

GRANT SELECT ON public.bench_orders_norls, public.bench_orders_nexus, public.bench_orders_supabase
  TO authenticated;

VACUUM (ANALYZE) public.bench_orders_norls;
VACUUM (ANALYZE) public.bench_orders_nexus;
VACUUM (ANALYZE) public.bench_orders_supabase;
VACUUM (ANALYZE) nexus.tenants;
VACUUM (ANALYZE) nexus.memberships;
VACUUM (ANALYZE) public.bench_tenants;

SELECT format('setup: %s tenants, %s rows per table, %s heap + %s indexes per table, avg row %s bytes',
              (SELECT count(*) FROM public.bench_tenants),
              (SELECT count(*) FROM public.bench_orders_norls),
              pg_size_pretty(pg_relation_size('public.bench_orders_norls')),
              pg_size_pretty(pg_indexes_size('public.bench_orders_norls')),
              (SELECT round(avg(pg_column_size(o.*))) FROM public.bench_orders_norls o TABLESAMPLE SYSTEM (1)));
