-- bench/ingest/bench.sql: the timed runs, their checks and the ratios.
--
-- Three ways of getting the same :orders orders (half Shopify, half Walmart,
-- 3 items each) into nexus.orders / nexus.order_items, each starting from
-- the same table state (bench.reset(way): TRUNCATE, the history orders on
-- the way's connections, ANALYZE, CHECKPOINT, all committed before the clock
-- starts), run twice in alternating order; the best run of each way counts:
--   nexus    nexus.ingest_orders(connection, page::json) per list page
--   plpgsql  bench_plpgsql.ingest_<marketplace>(connection, page::jsonb) per page
--   copy     COPY FROM of the rows nexus wrote (orders, then items), server-side
--            text files, new ids and connections: the limit
-- Both function ways are driven by bench.run(): one page per transaction, pages
-- read from bench.pages (text) and converted to the argument type in the call.
--
-- psql variables: orders (total), orders_file, items_file, ratio_file.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
\pset footer off

\echo == check: a sample of the generated orders normalizes as generated (nexus.normalize_order, nexus.normalize_page)
WITH s AS (
  SELECT p.marketplace, o
    FROM bench.pages p
   CROSS JOIN LATERAL jsonb_array_elements(CASE p.marketplace WHEN 'shopify' THEN p.page::jsonb -> 'orders'
                                                              ELSE p.page::jsonb #> '{list,elements,order}' END) o
   WHERE p.n % 20 = 1
), c AS (
  SELECT s.marketplace, nexus.normalize_order(s.marketplace, s.o::json) AS c FROM s
)
SELECT bench.assert(count(*) > 0 AND count(*) = count(*) FILTER (
                      WHERE e.status = c.c ->> 'status' AND e.total_amount = (c.c ->> 'total_amount')::numeric
                        AND jsonb_array_length(c.c -> 'items') = 3),
                    format('%s sampled orders normalize to the generated status and total, with 3 items (%s)',
                           count(*), string_agg(DISTINCT c.marketplace, ', ')))
  FROM c
  LEFT JOIN bench.expected e ON e.marketplace = c.marketplace AND e.external_order_id = c.c ->> 'external_order_id';
SELECT bench.assert(bool_and(jsonb_array_length(r -> 'orders') = 100 AND coalesce(jsonb_array_length(r -> 'failed'), 0) = 0),
                    format('%s sampled pages: 100 orders each, none failed (nexus.normalize_page)', count(*)))
  FROM (SELECT nexus.normalize_page(marketplace, page::json) AS r FROM bench.pages WHERE n % 50 = 2) p;
SELECT marketplace, status, count(*) AS orders FROM bench.expected GROUP BY 1, 2 ORDER BY 1, 3 DESC;

-- ------------------------------------------------------------------ round 1

\echo == round 1: nexus
CALL bench.reset('nexus');
CALL bench.run('nexus', 1);
SELECT bench.check_counts('nexus', :orders);
SELECT bench.check_expected();
CALL bench.snapshot();

\echo == round 1: nexus again over the same pages (every order unchanged; informational)
CALL bench.run('nexus', 1, 'unchanged');
SELECT bench.check_counts('nexus', :orders);

\echo == round 1: nexus over the pages with every order in a newer version (updated, items replaced; informational)
CALL bench.make_changed_pages();
CALL bench.run('nexus', 1, 'updated');
SELECT bench.check_counts('nexus', :orders);

-- The COPY input: nexus's rows with new ids on the copy connections, in the order written.
COPY (SELECT o.tenant_id, md5('copy' || o.id)::uuid, c.id, o.marketplace, o.external_order_id, o.order_number,
             o.status, o.marketplace_status, o.fulfillment_method, o.currency, o.subtotal, o.tax_total,
             o.shipping_total, o.discount_total, o.total_amount, o.buyer_name, o.buyer_email, o.ship_country,
             o.shipping_address, o.ordered_at, o.marketplace_updated_at, o.content_hash
        FROM bench.snap_orders o
        JOIN bench.conns c ON c.way = 'copy' AND c.marketplace = o.marketplace
       ORDER BY o.change_seq) TO :'orders_file';
COPY (SELECT i.tenant_id, md5('copy' || i.order_id)::uuid, i.line_no, i.external_item_id, i.sku, i.title,
             i.quantity, i.unit_price, i.line_total
        FROM bench.snap_items i
        JOIN bench.snap_orders o ON o.tenant_id = i.tenant_id AND o.id = i.order_id
       ORDER BY o.change_seq, i.line_no) TO :'items_file';

\echo == round 1: plpgsql
CALL bench.reset('plpgsql');
CALL bench.run('plpgsql', 1);
SELECT bench.check_counts('plpgsql', :orders);
SELECT bench.compare_with_nexus('plpgsql');
-- A sample, side by side.
SELECT s.marketplace, s.external_order_id, s.status AS nexus_status, p.status AS plpgsql_status,
       s.total_amount AS nexus_total, p.total_amount AS plpgsql_total,
       (SELECT string_agg(format('%s x %s', quantity, line_total), ', ' ORDER BY line_no)
          FROM bench.snap_canon_items i WHERE (i.marketplace, i.external_order_id) = (s.marketplace, s.external_order_id)) AS nexus_items,
       (SELECT string_agg(format('%s x %s', quantity, line_total), ', ' ORDER BY line_no)
          FROM bench.current_items i WHERE (i.marketplace, i.external_order_id) = (s.marketplace, s.external_order_id)) AS plpgsql_items
  FROM bench.snap_canon_orders s
  JOIN bench.current_orders p USING (marketplace, external_order_id)
 WHERE s.external_order_id IN ('7000000000007', '7000000000009', '7000000000050', '109000000000010', '109000000000011', '109000000000013')
 ORDER BY 1, 2;

\echo == round 1: plpgsql over the pages with every order in a newer version (informational)
CALL bench.run('plpgsql', 1, 'updated');
SELECT bench.check_counts('plpgsql', :orders);

\echo == round 1: copy
CALL bench.reset('copy');
SELECT clock_timestamp() AS t0 \gset
COPY nexus.orders (tenant_id, id, connection_id, marketplace, external_order_id, order_number, status,
                   marketplace_status, fulfillment_method, currency, subtotal, tax_total, shipping_total,
                   discount_total, total_amount, buyer_name, buyer_email, ship_country, shipping_address,
                   ordered_at, marketplace_updated_at, content_hash)
  FROM :'orders_file';
COPY nexus.order_items (tenant_id, order_id, line_no, external_item_id, sku, title, quantity, unit_price, line_total)
  FROM :'items_file';
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS elapsed \gset
INSERT INTO bench.results VALUES ('copy', 1, (SELECT count(*) FROM bench.current_orders),
                                  (SELECT count(*) FROM bench.current_items), :elapsed);
SELECT bench.check_counts('copy', :orders);
SELECT bench.compare_with_nexus('copy');

\echo == round 1: driver and input-function cost alone (informational)
CALL bench.run('read_json', 1);
CALL bench.run('read_jsonb', 1);

-- ------------------------------------------------------------------ round 2 (reverse order)

\echo == round 2: copy
CALL bench.reset('copy');
SELECT clock_timestamp() AS t0 \gset
COPY nexus.orders (tenant_id, id, connection_id, marketplace, external_order_id, order_number, status,
                   marketplace_status, fulfillment_method, currency, subtotal, tax_total, shipping_total,
                   discount_total, total_amount, buyer_name, buyer_email, ship_country, shipping_address,
                   ordered_at, marketplace_updated_at, content_hash)
  FROM :'orders_file';
COPY nexus.order_items (tenant_id, order_id, line_no, external_item_id, sku, title, quantity, unit_price, line_total)
  FROM :'items_file';
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) AS elapsed \gset
INSERT INTO bench.results VALUES ('copy', 2, (SELECT count(*) FROM bench.current_orders),
                                  (SELECT count(*) FROM bench.current_items), :elapsed);
SELECT bench.check_counts('copy', :orders);

\echo == round 2: plpgsql
CALL bench.reset('plpgsql');
CALL bench.run('plpgsql', 2);
SELECT bench.check_counts('plpgsql', :orders);
SELECT bench.compare_with_nexus('plpgsql');

\echo == round 2: nexus
CALL bench.reset('nexus');
CALL bench.run('nexus', 2);
SELECT bench.check_counts('nexus', :orders);
SELECT bench.compare_with_nexus('nexus (round 2)');

-- ------------------------------------------------------------------ results

\echo == results (every run)
SELECT way, round, orders, items, round(seconds::numeric, 2) AS seconds,
       round(orders / seconds) AS orders_per_s, round(items / seconds) AS items_per_s
  FROM bench.results
 ORDER BY CASE way WHEN 'nexus' THEN 1 WHEN 'plpgsql' THEN 2 WHEN 'copy' THEN 3 WHEN 'nexus_unchanged' THEN 4 WHEN 'nexus_updated' THEN 5 WHEN 'plpgsql_updated' THEN 6 ELSE 7 END, round;

\echo == best of each way (each run from the same starting state: only the history orders on the connections of the way)
SELECT way, count(*) AS runs, round(min(seconds)::numeric, 2) AS best_s, round(max(seconds)::numeric, 2) AS worst_s,
       round(max(orders / seconds)) AS orders_per_s
  FROM bench.results
 GROUP BY way
 ORDER BY CASE way WHEN 'nexus' THEN 1 WHEN 'plpgsql' THEN 2 WHEN 'copy' THEN 3 WHEN 'nexus_unchanged' THEN 4 WHEN 'nexus_updated' THEN 5 WHEN 'plpgsql_updated' THEN 6 ELSE 7 END;

-- The two targets can only both hold if COPY is at least ten times the
-- PL/pgSQL way: nexus would otherwise have to beat COPY to reach 5x.
\echo == the ceiling the targets imply (informational)
WITH best AS (SELECT way, min(seconds) AS s FROM bench.results GROUP BY way)
SELECT format('COPY is %sx the PL/pgSQL way in this run: at 0.5x COPY nexus is %sx PL/pgSQL; 5x PL/pgSQL would be %sx COPY',
              to_char(p.s / c.s, 'FM990.00'), to_char(0.5 * p.s / c.s, 'FM990.00'), to_char(5 * c.s / p.s, 'FM990.00')) AS ceiling
  FROM best p, best c WHERE p.way = 'plpgsql' AND c.way = 'copy';

\pset tuples_only on
\pset format unaligned
\o :ratio_file
WITH best AS (SELECT way, min(seconds) AS s FROM bench.results GROUP BY way)
SELECT line FROM (VALUES
  (1, format('RATIO ingest_vs_plpgsql %s target >= 5',
             to_char((SELECT s FROM best WHERE way = 'plpgsql') / (SELECT s FROM best WHERE way = 'nexus'), 'FM990.00'))),
  (2, format('RATIO ingest_vs_copy %s target >= 0.5',
             to_char((SELECT s FROM best WHERE way = 'copy') / (SELECT s FROM best WHERE way = 'nexus'), 'FM990.00')))
  ) v(k, line)
 ORDER BY k;
\o
