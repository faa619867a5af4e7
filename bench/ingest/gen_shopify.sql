-- bench/ingest/gen_shopify.sql: Shopify orders.json list pages, 100 orders each.
--
-- Template: the first order of fixtures/shopify/orders_page1.json (#1001, the
-- full REST order with its *_set money objects, tax lines, discount
-- allocations, addresses, customer and fulfillments), its first line item and
-- its fulfillment.  Every generated order is that order with a unique id and
-- name, three line items (products, variants, prices, quantities, SKUs varied;
-- some without SKU, some fulfilled by the Shopify Fulfillment Network), money
-- that adds up (decimal strings, 19 % VAT included), varied buyers, countries,
-- +01:00 timestamps and a status mix (financial / fulfillment / shipment /
-- cancelled_at).  bench.expected gets the status and total each order must
-- normalize to.
--
-- psql variables: fixtures (directory), orders (count, a multiple of 100).

\set ON_ERROR_STOP on
SET client_min_messages = warning;
\set shopify_page `cat :'fixtures'/shopify/orders_page1.json`

CREATE FUNCTION bench.mset(a text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT jsonb_build_object('shop_money', jsonb_build_object('amount', a, 'currency_code', 'EUR'),
                                  'presentment_money', jsonb_build_object('amount', a, 'currency_code', 'EUR')) $$;

-- Order n (1-based) built from the template order t, line lt and fulfillment ft.
CREATE FUNCTION bench.shopify_order(t jsonb, lt jsonb, ft jsonb, n integer,
                                    OUT o jsonb, OUT status text, OUT total numeric)
  LANGUAGE plpgsql IMMUTABLE
  AS $$
DECLARE
  products text[][] := ARRAY[
    ['Leinen-Geschirrtuch', 'Salbei'], ['Emaille-Becher 350 ml', NULL], ['Wollschal', 'Anthrazit'],
    ['Keramik-Vase, handgemacht', 'Terrakotta'], ['Holzwäscheklammer (einzeln)', NULL],
    ['Bienenwachstuch 3er-Set', 'Natur'], ['Olivenholz-Schneidebrett', 'Groß'],
    ['Kerze aus Rapswachs', 'Lavendel'], ['Baumwoll-Einkaufsnetz', NULL],
    ['Glasflasche 1 l', 'Bügelverschluss'], ['Kaffeefilter aus Edelstahl', NULL], ['Zirbenkissen', 'Grün']];
  firsts text[] := ARRAY['Sofie', 'Jürgen', 'Zoë', 'José', 'François', 'Siobhán', 'Çağla', 'Łukasz',
                         'Hannah', 'Mehmet', 'Anna', 'Lukas', 'Émilie', 'Grzegorz', 'Noah', 'Mia', 'Ben'];
  lasts text[] := ARRAY['Bäcker', 'Groß', 'Ångström', 'Muñoz Pérez', 'Côté', 'Ní Bhriain', 'Yıldız',
                        'Wiśniewski', 'Öztürk', 'Schmidt', 'Müller', 'Brzęczyszczykiewicz', 'Weber'];
  places text[][] := ARRAY[
    ['DE', 'Germany', 'Berlin', '10435', 'Kastanienallee 8'], ['DE', 'Germany', 'München', '80331', 'Sendlinger Str. 12'],
    ['DE', 'Germany', 'Köln', '50667', 'Hohe Str. 41'], ['AT', 'Austria', 'Wien', '1070', 'Neubaugasse 3'],
    ['NL', 'Netherlands', 'Amsterdam', '1015 CJ', 'Prinsengracht 263'], ['FR', 'France', 'Paris', '75011', 'Rue Oberkampf 9'],
    ['CH', 'Switzerland', 'Zürich', '8001', 'Bahnhofstrasse 1'], ['BE', 'Belgium', 'Bruxelles', '1000', 'Rue Neuve 20'],
    ['PL', 'Poland', 'Kraków', '31-001', 'Rynek Główny 5']];
  -- financial, fulfillment, shipment status of the fulfillment, cancelled?, canonical status
  combos text[][] := ARRAY[
    ['paid', 'fulfilled', 'delivered', 'n', 'delivered'], ['paid', 'fulfilled', 'delivered', 'n', 'delivered'],
    ['paid', 'fulfilled', 'delivered', 'n', 'delivered'], ['paid', 'fulfilled', 'in_transit', 'n', 'shipped'],
    ['paid', NULL, NULL, 'n', 'confirmed'], ['paid', 'partial', 'in_transit', 'n', 'processing'],
    ['pending', NULL, NULL, 'n', 'pending'], ['refunded', 'fulfilled', 'delivered', 'n', 'refunded'],
    ['voided', NULL, NULL, 'y', 'cancelled'], ['partially_refunded', 'fulfilled', 'delivered', 'n', 'delivered'],
    ['authorized', NULL, NULL, 'n', 'confirmed'], ['paid', 'fulfilled', 'delivered', 'n', 'delivered']];
  order_id bigint := 7000000000000 + n;
  c integer := 1 + n % array_length(combos, 1);
  fin text := combos[c][1];
  ful text := combos[c][2];
  ship_status text := combos[c][3];
  cancelled boolean := combos[c][4] = 'y';
  fbs boolean := n % 40 = 0;
  created timestamp := timestamp '2025-01-06 08:00:00' + n * interval '47 seconds';
  updated timestamp := created + (1 + n % 96) * interval '1 hour' + (n % 60) * interval '1 second';
  fname text := firsts[1 + n % array_length(firsts, 1)];
  lname text := lasts[1 + (n / 7) % array_length(lasts, 1)];
  place integer := 1 + (n / 3) % array_length(places, 1);
  no_customer boolean := n % 50 = 0;
  email text := CASE WHEN no_customer THEN NULL ELSE 'kunde' || n || '@example.de' END;
  lines jsonb := '[]';
  flines jsonb := '[]';
  subtotal numeric := 0;
  discount numeric;
  shipping numeric;
  tax numeric;
  p integer;
  price numeric;
  qty integer;
  lid bigint;
  title text;
  variant text;
  addr jsonb;
  f jsonb;
BEGIN
  FOR k IN 1 .. 3 LOOP
    p := 1 + (n * 5 + k * 7) % array_length(products, 1);
    title := products[p][1];
    variant := products[p][2];
    price := ((n * 7919 + k * 104729) % 8900 + 100) / 100.0;
    qty := CASE WHEN n % 97 = 0 AND k = 1 THEN 120 ELSE 1 + (n + k) % 3 END;
    lid := 30000000000000 + n::bigint * 10 + k;
    subtotal := subtotal + price * qty;
    lines := lines || jsonb_build_array(lt || jsonb_build_object(
      'id', lid,
      'admin_graphql_api_id', 'gid://shopify/LineItem/' || lid,
      'current_quantity', qty,
      'fulfillable_quantity', CASE WHEN ful = 'fulfilled' THEN 0 ELSE qty END,
      'fulfillment_service', CASE WHEN fbs THEN 'shopify_fulfillment_network' ELSE 'manual' END,
      'fulfillment_status', CASE WHEN ful = 'fulfilled' OR (ful = 'partial' AND k = 1) THEN 'fulfilled' END,
      'grams', 100 * p,
      'name', CASE WHEN variant IS NULL THEN title ELSE title || ' - ' || variant END,
      'price', bench.m(price),
      'price_set', bench.mset(bench.m(price)),
      'product_id', 9100000000 + p,
      'quantity', qty,
      -- every 50th order's third line is a variant without a SKU (Shopify sends "")
      'sku', CASE WHEN n % 50 = 0 AND k = 3 THEN '' ELSE 'SKU-' || lpad(((n * 13 + k) % 4000)::text, 5, '0') END,
      'title', title,
      'variant_id', 4610000000 + p * 10 + k,
      'variant_title', variant,
      'tax_lines', jsonb_build_array((lt -> 'tax_lines' -> 0) || jsonb_build_object(
                     'price', bench.m(round(price * qty * 19 / 119, 2)),
                     'price_set', bench.mset(bench.m(round(price * qty * 19 / 119, 2))))),
      'discount_allocations', CASE WHEN n % 4 = 0
        THEN jsonb_build_array(jsonb_build_object(
               'amount', bench.m(round(price * qty * 0.10, 2)),
               'amount_set', bench.mset(bench.m(round(price * qty * 0.10, 2))),
               'discount_application_index', 0))
        ELSE '[]'::jsonb END));
    flines := flines || jsonb_build_array(jsonb_build_object('id', lid, 'quantity', qty));
  END LOOP;

  discount := CASE WHEN n % 4 = 0 THEN round(subtotal * 0.10, 2) ELSE 0 END;
  shipping := CASE WHEN subtotal - discount >= 50 THEN 0 ELSE 4.90 END;
  total := subtotal - discount + shipping;
  tax := round(total * 19 / 119, 2);
  status := combos[c][5];

  addr := (t -> 'shipping_address') || jsonb_build_object(
    'first_name', fname, 'last_name', lname, 'name', fname || ' ' || lname,
    'address1', places[place][5], 'city', places[place][3], 'zip', places[place][4],
    'country', places[place][2], 'country_code', places[place][1]);
  f := CASE WHEN ful IS NULL THEN NULL ELSE ft || jsonb_build_object(
    'id', 5300000000 + n, 'admin_graphql_api_id', 'gid://shopify/Fulfillment/' || (5300000000 + n),
    'name', '#' || (10000 + n) || '.1', 'order_id', order_id,
    'shipment_status', ship_status,
    'tracking_number', lpad((340434160000000000 + n)::text, 20, '0'),
    'tracking_numbers', jsonb_build_array(lpad((340434160000000000 + n)::text, 20, '0')),
    'created_at', to_char(created + interval '20 hours', 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00',
    'updated_at', to_char(updated, 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00',
    'line_items', CASE WHEN ful = 'partial' THEN flines -> 0 ELSE flines END) END;

  o := t || jsonb_build_object(
    'id', order_id,
    'admin_graphql_api_id', 'gid://shopify/Order/' || order_id,
    'checkout_id', order_id + 9000000,
    'checkout_token', 'c1' || md5(order_id::text),
    'token', md5('tok' || order_id),
    'confirmation_number', upper(substr(md5(n::text), 1, 9)),
    'name', '#' || (10000 + n),
    'number', n,
    'order_number', 10000 + n,
    'order_status_url', 'https://nexus-demo-de.myshopify.com/75000111/orders/' || md5('s' || n) || '/authenticate?key=bench',
    'browser_ip', '203.0.113.' || (n % 250 + 1),
    'created_at', to_char(created, 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00',
    'processed_at', to_char(created - interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00',
    'updated_at', to_char(updated, 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00',
    'closed_at', CASE WHEN status IN ('delivered', 'refunded') THEN to_char(updated, 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00' END,
    'cancelled_at', CASE WHEN cancelled THEN to_char(updated, 'YYYY-MM-DD"T"HH24:MI:SS') || '+01:00' END,
    'cancel_reason', CASE WHEN cancelled THEN 'customer' END,
    'financial_status', fin,
    'fulfillment_status', ful,
    'email', email,
    'contact_email', email,
    'current_subtotal_price', bench.m(subtotal - discount), 'current_subtotal_price_set', bench.mset(bench.m(subtotal - discount)),
    'current_total_discounts', bench.m(discount), 'current_total_discounts_set', bench.mset(bench.m(discount)),
    'current_total_price', bench.m(total), 'current_total_price_set', bench.mset(bench.m(total)),
    'current_total_tax', bench.m(tax), 'current_total_tax_set', bench.mset(bench.m(tax)),
    'subtotal_price', bench.m(subtotal - discount), 'subtotal_price_set', bench.mset(bench.m(subtotal - discount)),
    'total_discounts', bench.m(discount), 'total_discounts_set', bench.mset(bench.m(discount)),
    'total_line_items_price', bench.m(subtotal), 'total_line_items_price_set', bench.mset(bench.m(subtotal)),
    'total_price', bench.m(total), 'total_price_set', bench.mset(bench.m(total)),
    'total_shipping_price_set', bench.mset(bench.m(shipping)),
    'total_tax', bench.m(tax), 'total_tax_set', bench.mset(bench.m(tax)),
    'total_outstanding', CASE WHEN fin = 'pending' THEN bench.m(total) ELSE '0.00' END,
    'total_weight', 300 * 3,
    'discount_codes', CASE WHEN discount > 0
      THEN jsonb_build_array(jsonb_build_object('code', 'FRUEHLING10', 'amount', bench.m(discount), 'type', 'percentage'))
      ELSE '[]'::jsonb END,
    'tax_lines', jsonb_build_array((t -> 'tax_lines' -> 0) || jsonb_build_object(
      'price', bench.m(tax), 'price_set', bench.mset(bench.m(tax)))),
    'billing_address', addr,
    'shipping_address', addr,
    'customer', CASE WHEN no_customer THEN NULL ELSE (t -> 'customer') || jsonb_build_object(
      'id', 7701000000 + n / 3, 'email', email, 'first_name', fname, 'last_name', lname,
      'admin_graphql_api_id', 'gid://shopify/Customer/' || (7701000000 + n / 3)) END,
    'shipping_lines', jsonb_build_array((t -> 'shipping_lines' -> 0) || jsonb_build_object(
      'id', 6200000000 + n, 'price', bench.m(shipping), 'price_set', bench.mset(bench.m(shipping)),
      'discounted_price', bench.m(shipping), 'discounted_price_set', bench.mset(bench.m(shipping)))),
    'fulfillments', CASE WHEN f IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(f) END,
    'line_items', lines);
END
$$;

-- One pass: each order is built once, for its page and for bench.expected.
WITH g AS MATERIALIZED (
  SELECT n, x.o, x.status, x.total
    FROM (SELECT (:'shopify_page'::jsonb -> 'orders' -> 0) AS t) tpl
   CROSS JOIN generate_series(1, :orders) n
   CROSS JOIN LATERAL bench.shopify_order(tpl.t, tpl.t -> 'line_items' -> 0,
                                          tpl.t -> 'fulfillments' -> 0, n) x
), e AS (
  INSERT INTO bench.expected (marketplace, external_order_id, status, total_amount)
  SELECT 'shopify', g.o ->> 'id', g.status, g.total FROM g
)
INSERT INTO bench.pages (marketplace, n, page)
SELECT 'shopify', (n - 1) / 100 + 1, jsonb_build_object('orders', jsonb_agg(o ORDER BY n))::text
  FROM g
 GROUP BY (n - 1) / 100;
