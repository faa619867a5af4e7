-- bench/rls/policies.sql (optional, POLICIES=1): where the nexus variant's
-- time goes.  Swaps the policy on bench_orders_nexus for alternatives, times
-- each with bench.sql's procedures, and restores the original policy.
--   P0 scope filter:    tenant_id = nexus.tenant_id() AND nexus.has_scope('orders:read')
--   P1 tenant only:     tenant_id = nexus.tenant_id()
--   P2 scope initplan:  tenant_id = nexus.tenant_id() AND (SELECT nexus.has_scope('orders:read'))
--   P3 scope in key:    tenant_id = CASE WHEN nexus.has_scope('orders:read') THEN nexus.tenant_id() END
--   nexus (restored):   tenant_id = nexus.tenant_id('orders:read')
-- psql variables: rounds, per.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TABLE IF NOT EXISTS public.bench_policy_timing (LIKE public.bench_timing);
ALTER TABLE public.bench_policy_timing ADD COLUMN IF NOT EXISTS policy text;
TRUNCATE public.bench_policy_timing;

CREATE OR REPLACE PROCEDURE public.bench_policy(p_name text, p_using text, p_rounds int, p_per int)
  LANGUAGE plpgsql AS $$
BEGIN
  DROP POLICY IF EXISTS bench_orders_nexus_read ON public.bench_orders_nexus;
  EXECUTE format('CREATE POLICY bench_orders_nexus_read ON public.bench_orders_nexus
                    FOR SELECT TO authenticated USING (%s)', p_using);
  COMMIT;
  TRUNCATE public.bench_timing;
  CALL public.bench_time('literal', p_rounds, p_per);
  CALL public.bench_time('cached', p_rounds, p_per);
  INSERT INTO public.bench_policy_timing
    SELECT t.*, p_name FROM public.bench_timing t WHERE t.variant IN ('norls', 'nexus');
  COMMIT;
END
$$;

CALL public.bench_policy('P1 tenant only', 'tenant_id = nexus.tenant_id()', :rounds, :per);
CALL public.bench_policy('P2 scope initplan',
  'tenant_id = nexus.tenant_id() AND (SELECT nexus.has_scope(''orders:read''))', :rounds, :per);
CALL public.bench_policy('P3 scope in key',
  'tenant_id = CASE WHEN nexus.has_scope(''orders:read'') THEN nexus.tenant_id() END', :rounds, :per);
CALL public.bench_policy('P0 scope filter',
  'tenant_id = nexus.tenant_id() AND nexus.has_scope(''orders:read'')', :rounds, :per);
CALL public.bench_policy('nexus policy',
  'tenant_id = nexus.tenant_id(''orders:read'')', :rounds, :per);
-- bench_validate() again: the alternatives must not have changed answers
-- (nexus's policy is back in place; run before the swaps by bench.sql too).
CALL public.bench_validate();

\echo '== alternative nexus policies: ms per query (median over rounds), ratio to no-RLS in the same runs'
\pset footer off
WITH per_round AS (
  SELECT policy, mode, shape, variant, round, query_s * 1000 / nq AS q_ms
    FROM public.bench_policy_timing),
s AS (
  SELECT policy, mode, shape, variant,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY q_ms) AS med_ms
    FROM per_round GROUP BY 1, 2, 3, 4)
SELECT v.policy, v.mode, v.shape,
       to_char(b.med_ms, 'FM990.0000') AS norls_ms,
       to_char(v.med_ms, 'FM990.0000') AS nexus_ms,
       to_char(v.med_ms / b.med_ms, 'FM990.00') AS ratio
  FROM s v JOIN s b USING (policy, mode, shape)
 WHERE v.variant = 'nexus' AND b.variant = 'norls'
 ORDER BY v.mode DESC, v.shape, v.policy;
