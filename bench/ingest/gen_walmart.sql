-- bench/ingest/gen_walmart.sql: Walmart /v3/orders list pages, 100 purchase orders each.
--
-- Template: the first PO of fixtures/walmart/orders_page1.json (shipping
-- info, postal address, ship node), its first order line (PRODUCT and
-- SHIPPING charges with tax, quantity, status entry with tracking info,
-- fulfillment) and the refund of PO ...444 in orders_page2.json.  Every
-- generated PO has a unique purchaseOrderId / customerOrderId, three lines
-- (products, SKUs, quantities, line totals varied; JSON-number amounts;
-- shipping on the first line or free), epoch-millisecond times, varied
-- buyers and addresses, some WFS (FBA) ship nodes, and per-line statuses
-- covering the aggregation rule: all delivered / shipped / created /
-- acknowledged / cancelled, mixed lines, a cancelled line, a line split in
-- two status entries, full and partial refunds.  bench.expected gets the
-- status and total each PO must normalize to.
--
-- psql variables: fixtures (directory), orders (count, a multiple of 100).

\set ON_ERROR_STOP on
SET client_min_messages = warning;
\set walmart_page1 `cat :'fixtures'/walmart/orders_page1.json`
\set walmart_page2 `cat :'fixtures'/walmart/orders_page2.json`

CREATE FUNCTION bench.usd(x numeric) RETURNS jsonb
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT jsonb_build_object('currency', 'USD', 'amount', to_jsonb(trim_scale(x))) $$;

CREATE FUNCTION bench.walmart_order(t jsonb, lt jsonb, rt jsonb, n integer,
                                    OUT o jsonb, OUT status text, OUT total numeric)
  LANGUAGE plpgsql IMMUTABLE
  AS $$
DECLARE
  products text[][] := ARRAY[
    ['Stainless Steel Water Bottle 750 ml – Silver', 'BTL-SS-750-SLV'], ['Silicone Bottle Sleeve – Sage', 'SLV-SIL-SAGE'],
    ['Bamboo Cutting Board – Large', 'BOARD-BMB-L'], ['Cast Iron Skillet 10"', 'PAN-CI-10'],
    ['Paper Towel Dispenser – Brushed Nickel', 'DSP-PT-BN'], ['LED Desk Lamp, Dimmable', 'LAMP-LED-DM'],
    ['Cotton Bath Towel Set (6 pc)', 'TWL-CTN-6'], ['Glass Meal Prep Containers, 10 Pack', 'CNT-GLS-10'],
    ['Kids'' Rain Boots – Yellow', 'BOOT-KID-YLW'], ['Wireless Mouse', 'MSE-WL-BLK'], ['Yoga Mat 6 mm – Teal', 'MAT-YG-6-TL']];
  names text[] := ARRAY['Renée Dubois', 'Marcus Bell', 'Mónica Álvarez', 'Étienne Tremblay', 'Priya Raman',
                        'DeShawn Carter', 'Zoë Nakamura', 'Bob''s Hardware LLC', 'José Muñoz', 'Linh Nguyen',
                        'Siobhán O''Neill', 'Tomasz Kowalski', 'Aaliyah Brooks'];
  places text[][] := ARRAY[
    ['Sparks', 'NV', '89431'], ['Aurora', 'CO', '80012'], ['Miami', 'FL', '33130'], ['Austin', 'TX', '78701'],
    ['Columbus', 'OH', '43215'], ['Portland', 'OR', '97205'], ['Raleigh', 'NC', '27601'], ['Bentonville', 'AR', '72712']];
  -- status of lines 1, 2, 3 (3b: a second entry splitting line 3), refunded lines, canonical status
  combos text[][] := ARRAY[
    ['Delivered', 'Delivered', 'Delivered', '', '', 'delivered'],
    ['Delivered', 'Delivered', 'Delivered', '', '', 'delivered'],
    ['Shipped', 'Shipped', 'Shipped', '', '', 'shipped'],
    ['Shipped', 'Shipped', 'Shipped', '', '', 'shipped'],
    ['Created', 'Created', 'Created', '', '', 'confirmed'],
    ['Acknowledged', 'Acknowledged', 'Acknowledged', '', '', 'processing'],
    ['Cancelled', 'Cancelled', 'Cancelled', '', '', 'cancelled'],
    ['Shipped', 'Shipped', 'Created', '', '', 'processing'],
    ['Acknowledged', 'Acknowledged', 'Cancelled', '', '', 'processing'],
    ['Shipped', 'Shipped', 'Shipped', 'Cancelled', '', 'shipped'],
    ['Delivered', 'Delivered', 'Delivered', '', '123', 'refunded'],
    ['Delivered', 'Delivered', 'Delivered', '', '1', 'delivered'],
    ['Shipped', 'Delivered', 'Delivered', '', '', 'shipped'],
    ['Delivered', 'Delivered', 'Delivered', '', '', 'delivered']];
  c integer := 1 + n % array_length(combos, 1);
  po text := (109000000000000 + n)::text;
  ordered bigint := 1740000000000 + n::bigint * 41000;
  buyer text := names[1 + n % array_length(names, 1)];
  place integer := 1 + (n / 5) % array_length(places, 1);
  free_shipping boolean := n % 3 = 0;
  lines jsonb := '[]';
  subtotal numeric := 0;
  shipping numeric := 0;
  tax numeric := 0;
  p integer;
  qty integer;
  line_total numeric;
  line_tax numeric;
  ship_amount numeric;
  charges jsonb;
  entries jsonb;
  st text;
  status_date bigint;
  tracking jsonb;
BEGIN
  FOR k IN 1 .. 3 LOOP
    p := 1 + (n * 3 + k * 5) % array_length(products, 1);
    qty := CASE WHEN n % 89 = 0 AND k = 2 THEN 500 ELSE 1 + (n + k) % 3 END;
    IF k = 3 AND combos[c][4] <> '' THEN
      qty := greatest(qty, 2);
    END IF;
    line_total := qty * (((n * 7919 + k * 104729) % 6000 + 99) / 100.0);
    line_tax := round(line_total * 0.0825, 2);
    subtotal := subtotal + line_total;
    tax := tax + line_tax;
    charges := jsonb_build_array(jsonb_build_object(
      'chargeType', 'PRODUCT', 'chargeName', 'ItemPrice', 'chargeAmount', bench.usd(line_total),
      'tax', jsonb_build_object('taxName', 'Tax1', 'taxAmount', bench.usd(line_tax))));
    IF k = 1 AND NOT free_shipping THEN
      ship_amount := 4.99 + (n % 4) * 2;
      shipping := shipping + ship_amount;
      tax := tax + round(ship_amount * 0.0825, 2);
      charges := charges || jsonb_build_array(jsonb_build_object(
        'chargeType', 'SHIPPING', 'chargeName', 'Shipping', 'chargeAmount', bench.usd(ship_amount),
        'tax', jsonb_build_object('taxName', 'Tax1', 'taxAmount', bench.usd(round(ship_amount * 0.0825, 2)))));
    END IF;

    st := combos[c][k];
    status_date := ordered + CASE st WHEN 'Created' THEN 0 WHEN 'Acknowledged' THEN 3600000
                                     WHEN 'Cancelled' THEN 7200000 WHEN 'Shipped' THEN 86400000
                                     ELSE 259200000 END + k * 60000;
    tracking := CASE WHEN st IN ('Shipped', 'Delivered') THEN
      (lt #> '{orderLineStatuses,orderLineStatus,0,trackingInfo}') || jsonb_build_object(
        'shipDateTime', ordered + 86400000,
        'trackingNumber', '1Z999AA1' || lpad(n::text, 10, '0'),
        'trackingURL', 'https://www.walmart.com/tracking?tracking_id=1Z999AA1' || lpad(n::text, 10, '0') || '&order_id=' || po) END;
    IF k = 3 AND combos[c][4] <> '' THEN
      entries := jsonb_build_array(
        jsonb_build_object('status', st, 'statusQuantity', jsonb_build_object('unitOfMeasurement', 'EACH', 'amount', '1'),
                           'cancellationReason', NULL, 'trackingInfo', tracking, 'returnCenterAddress', NULL),
        jsonb_build_object('status', combos[c][4], 'statusQuantity', jsonb_build_object('unitOfMeasurement', 'EACH', 'amount', (qty - 1)::text),
                           'cancellationReason', 'SELLER_CANCEL_OUT_OF_STOCK', 'trackingInfo', NULL, 'returnCenterAddress', NULL));
    ELSE
      entries := jsonb_build_array(jsonb_build_object(
        'status', st, 'statusQuantity', jsonb_build_object('unitOfMeasurement', 'EACH', 'amount', qty::text),
        'cancellationReason', CASE WHEN st = 'Cancelled' THEN 'CUSTOMER_REQUESTED_SELLER_TO_CANCEL' END,
        'trackingInfo', tracking, 'returnCenterAddress', NULL));
    END IF;

    lines := lines || jsonb_build_array(lt || jsonb_build_object(
      'lineNumber', k::text,
      'item', jsonb_build_object('productName', products[p][1], 'sku', products[p][2]),
      'charges', jsonb_build_object('charge', charges),
      'orderLineQuantity', jsonb_build_object('unitOfMeasurement', 'EACH', 'amount', qty::text),
      'statusDate', status_date,
      'orderLineStatuses', jsonb_build_object('orderLineStatus', entries),
      'refund', CASE WHEN strpos(combos[c][5], k::text) > 0 THEN rt || jsonb_build_object(
        'refundId', md5(po || k)::uuid,
        'refundCharges', jsonb_build_object('refundCharge', jsonb_build_array(
          (rt #> '{refundCharges,refundCharge,0}') || jsonb_build_object('charge', jsonb_build_object(
            'chargeType', 'PRODUCT', 'chargeName', 'Item Price', 'chargeAmount', bench.usd(-line_total),
            'tax', jsonb_build_object('taxName', 'Item Price Tax', 'taxAmount', bench.usd(-line_tax))))))) END));
  END LOOP;

  total := subtotal + shipping + tax;
  status := combos[c][6];
  o := t || jsonb_build_object(
    'purchaseOrderId', po,
    'customerOrderId', (200100000000000 + n)::text,
    'customerEmailId', upper(md5('buyer' || n)) || '@relay.walmart.com',
    'orderDate', ordered,
    'shippingInfo', (t -> 'shippingInfo') || jsonb_build_object(
      'phone', (2025550100 + n % 9000)::text,
      'estimatedDeliveryDate', ordered + 432000000,
      'estimatedShipDate', ordered + 172800000,
      'postalAddress', (t #> '{shippingInfo,postalAddress}') || jsonb_build_object(
        'name', buyer, 'address1', (100 + n % 900) || ' Example Ave', 'city', places[place][1],
        'state', places[place][2], 'postalCode', places[place][3])),
    'orderLines', jsonb_build_object('orderLine', lines),
    'shipNode', CASE WHEN n % 8 = 0
      THEN jsonb_build_object('type', 'WFSFulfilled', 'name', 'WFS', 'id', '720000000000001')
      ELSE t -> 'shipNode' END);
END
$$;

-- One pass: each PO is built once, for its page and for bench.expected.
WITH tpl AS (
  SELECT p1 #> '{list,elements,order,0}' AS t,
         p1 #> '{list,elements,order,0,orderLines,orderLine,0}' AS lt,
         (SELECT l -> 'refund' FROM jsonb_array_elements(p2 #> '{list,elements,order}') o,
                 jsonb_array_elements(o #> '{orderLines,orderLine}') l
           WHERE jsonb_typeof(l -> 'refund') = 'object' LIMIT 1) AS rt
    FROM (SELECT :'walmart_page1'::jsonb AS p1, :'walmart_page2'::jsonb AS p2) f
), g AS MATERIALIZED (
  SELECT n, x.o, x.status, x.total
    FROM tpl
   CROSS JOIN generate_series(1, :orders) n
   CROSS JOIN LATERAL bench.walmart_order(tpl.t, tpl.lt, tpl.rt, n) x
), e AS (
  INSERT INTO bench.expected (marketplace, external_order_id, status, total_amount)
  SELECT 'walmart', g.o ->> 'purchaseOrderId', g.status, g.total FROM g
)
INSERT INTO bench.pages (marketplace, n, page)
SELECT 'walmart', (n - 1) / 100 + 1,
       jsonb_build_object('list', jsonb_build_object(
         'meta', jsonb_build_object(
           'totalCount', :orders, 'limit', 100,
           'nextCursor', CASE WHEN max(n) < :orders THEN
             '?limit=100&hasMoreElements=true&soIndex=' || :orders || '&poIndex=' || max(n)
             || '&partnerId=10001234567&sellerId=101234&lastModifiedStartDate=2025-02-01T00:00:00.000Z'
             || '&lastModifiedEndDate=2025-03-12T21:00:00.000Z' END),
         'elements', jsonb_build_object('order', jsonb_agg(o ORDER BY n))))::text
  FROM g
 GROUP BY (n - 1) / 100;
