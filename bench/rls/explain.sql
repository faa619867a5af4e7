-- bench/rls/explain.sql: the plans of every variant and shape, inside the
-- same emulated PostgREST request as the timings (tenant n = 1).
-- First without ANALYZE (what the planner chose, VERBOSE to show the
-- function calls), then once with ANALYZE for inspection, then the generic
-- plans that the "cached" mode uses.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
\pset footer off
SELECT tenant_id AS tid, claims FROM public.bench_tenants WHERE n = 1 \gset

\echo '######## tenant' :tid
\echo '######## claims' :claims

BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', :'claims', true) \g /dev/null
SELECT set_config('request.headers', '{}', true) \g /dev/null
SELECT nexus.pre_request() \g /dev/null
SELECT current_user, nexus.user_id(), nexus.tenant_id(), nexus.tenant_role(), nexus.has_scope('orders:read');

\echo '######## EXPLAIN (VERBOSE) -- count, norls'
EXPLAIN (VERBOSE) SELECT count(*) FROM public.bench_orders_norls WHERE tenant_id = :'tid';
\echo '######## EXPLAIN (VERBOSE) -- count, nexus'
EXPLAIN (VERBOSE) SELECT count(*) FROM public.bench_orders_nexus;
\echo '######## EXPLAIN (VERBOSE) -- count, supabase'
EXPLAIN (VERBOSE) SELECT count(*) FROM public.bench_orders_supabase;
\echo '######## EXPLAIN (VERBOSE) -- page, norls'
EXPLAIN (VERBOSE) SELECT * FROM public.bench_orders_norls WHERE tenant_id = :'tid' ORDER BY ordered_at DESC LIMIT 50;
\echo '######## EXPLAIN (VERBOSE) -- page, nexus'
EXPLAIN (VERBOSE) SELECT * FROM public.bench_orders_nexus ORDER BY ordered_at DESC LIMIT 50;
\echo '######## EXPLAIN (VERBOSE) -- page, supabase'
EXPLAIN (VERBOSE) SELECT * FROM public.bench_orders_supabase ORDER BY ordered_at DESC LIMIT 50;

\echo '######## EXPLAIN (ANALYZE, BUFFERS) -- count, norls'
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM public.bench_orders_norls WHERE tenant_id = :'tid';
\echo '######## EXPLAIN (ANALYZE, BUFFERS) -- count, nexus'
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM public.bench_orders_nexus;
\echo '######## EXPLAIN (ANALYZE, BUFFERS) -- count, supabase'
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM public.bench_orders_supabase;
\echo '######## EXPLAIN (ANALYZE, BUFFERS) -- page, norls'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM public.bench_orders_norls WHERE tenant_id = :'tid' ORDER BY ordered_at DESC LIMIT 50;
\echo '######## EXPLAIN (ANALYZE, BUFFERS) -- page, nexus'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM public.bench_orders_nexus ORDER BY ordered_at DESC LIMIT 50;
\echo '######## EXPLAIN (ANALYZE, BUFFERS) -- page, supabase'
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM public.bench_orders_supabase ORDER BY ordered_at DESC LIMIT 50;

-- The cached mode's plans: plpgsql passes the baseline's tenant as a parameter.
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE c_norls(uuid) AS SELECT count(*) FROM public.bench_orders_norls WHERE tenant_id = $1;
PREPARE c_nexus AS SELECT count(*) FROM public.bench_orders_nexus;
PREPARE p_norls(uuid) AS SELECT * FROM public.bench_orders_norls WHERE tenant_id = $1 ORDER BY ordered_at DESC LIMIT 50;
PREPARE p_nexus AS SELECT * FROM public.bench_orders_nexus ORDER BY ordered_at DESC LIMIT 50;
\echo '######## generic plan -- count, norls'
EXPLAIN (VERBOSE) EXECUTE c_norls(:'tid');
\echo '######## generic plan -- count, nexus'
EXPLAIN (VERBOSE) EXECUTE c_nexus;
\echo '######## generic plan -- page, norls'
EXPLAIN (VERBOSE) EXECUTE p_norls(:'tid');
\echo '######## generic plan -- page, nexus'
EXPLAIN (VERBOSE) EXECUTE p_nexus;
ROLLBACK;
DEALLOCATE ALL;
