-- bench/ingest/plpgsql.sql: the baseline, nexus's order ingestion written in
-- PL/pgSQL over jsonb, the way a competent Supabase developer would: one
-- function per marketplace taking the list page as jsonb, a loop over the
-- page's orders reading each with jsonb operators, the marketplace's status
-- rules, money through numeric, timestamps through timestamptz, an
-- INSERT ... ON CONFLICT DO UPDATE that never lets an older payload
-- overwrite a newer one (and skips identical content), and the items
-- replaced as a set (DELETE + one INSERT ... SELECT per order).
--
-- It writes the same rows as nexus.ingest_orders() into the same tables
-- (checked by bench.sql).  content_hash is the md5 of the canonical fields
-- (not of the whole payload: cheaper).  The rules are those of
-- ../../adapters/shopify.c and walmart.c (fixtures/*/README.md).

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE SCHEMA bench_plpgsql;

-- ---------------------------------------------------------------- Shopify

CREATE FUNCTION bench_plpgsql.ingest_shopify(p_connection_id uuid, p_page jsonb)
  RETURNS jsonb
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_tenant uuid;
  o jsonb;
  v_fin text;
  v_ful text;
  v_delivered boolean;
  v_status text;
  v_fm text;
  v_email text;
  v_name text;
  v_addr jsonb;
  v_subtotal numeric;
  v_hash bytea;
  v_id uuid;
  v_count integer := 0;
BEGIN
  SELECT tenant_id INTO v_tenant
    FROM nexus.marketplace_connections
   WHERE id = p_connection_id AND marketplace = 'shopify';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'shopify connection % does not exist', p_connection_id USING ERRCODE = 'P0002';
  END IF;

  FOR o IN SELECT jsonb_array_elements(p_page -> 'orders') LOOP
    v_fin := o ->> 'financial_status';
    v_ful := o ->> 'fulfillment_status';

    -- Delivered when every successful fulfillment says so.
    SELECT count(*) > 0 AND coalesce(bool_and(f ->> 'shipment_status' = 'delivered'), false)
      INTO v_delivered
      FROM jsonb_array_elements(coalesce(o -> 'fulfillments', '[]')) f
     WHERE coalesce(f ->> 'status', 'success') = 'success';

    v_status := CASE
      WHEN o ->> 'cancelled_at' IS NOT NULL OR v_fin IN ('voided', 'expired') THEN 'cancelled'
      WHEN v_fin = 'refunded' THEN 'refunded'
      WHEN v_fin IS NULL OR v_fin IN ('pending', 'partially_paid') THEN 'pending'
      WHEN v_fin IN ('paid', 'authorized', 'partially_refunded') THEN
        CASE
          WHEN v_ful IS NULL OR v_ful = 'unfulfilled' THEN 'confirmed'
          WHEN v_ful = 'partial' THEN 'processing'
          WHEN v_ful = 'fulfilled' THEN CASE WHEN v_delivered THEN 'delivered' ELSE 'shipped' END
          WHEN v_ful = 'restocked' THEN 'cancelled'
          ELSE 'pending'
        END
      ELSE 'pending'
    END;

    -- FBS when every line that ships goes through the Shopify Fulfillment Network.
    SELECT CASE WHEN count(*) > 0
                 AND coalesce(bool_and(lower(translate(li ->> 'fulfillment_service', '_-', '  '))
                                       = 'shopify fulfillment network'), false)
                THEN 'FBS' ELSE 'FBM' END
      INTO v_fm
      FROM jsonb_array_elements(o -> 'line_items') li
     WHERE li -> 'requires_shipping' IS DISTINCT FROM 'false'::jsonb;

    v_email := coalesce(nullif(o ->> 'email', ''), nullif(o ->> 'contact_email', ''));
    v_name := coalesce(
      CASE WHEN jsonb_typeof(o -> 'customer') = 'object' THEN
        nullif(concat_ws(' ', nullif(o #>> '{customer,first_name}', ''), nullif(o #>> '{customer,last_name}', '')), '')
      END,
      nullif(o #>> '{billing_address,name}', ''),
      nullif(concat_ws(' ', nullif(o #>> '{billing_address,first_name}', ''), nullif(o #>> '{billing_address,last_name}', '')), ''),
      nullif(o #>> '{shipping_address,name}', ''),
      nullif(concat_ws(' ', nullif(o #>> '{shipping_address,first_name}', ''), nullif(o #>> '{shipping_address,last_name}', '')), ''));
    v_addr := CASE WHEN jsonb_typeof(o -> 'shipping_address') = 'object' THEN o -> 'shipping_address' END;

    v_subtotal := coalesce((o ->> 'total_line_items_price')::numeric,
                           (SELECT sum((li ->> 'price')::numeric * (li ->> 'quantity')::integer)
                              FROM jsonb_array_elements(o -> 'line_items') li));
    v_hash := decode(md5(concat_ws('|', o ->> 'id', o ->> 'name', v_status, v_fin, v_ful, v_fm,
                                   o ->> 'currency', v_subtotal, o ->> 'total_tax',
                                   o #>> '{total_shipping_price_set,shop_money,amount}',
                                   o ->> 'total_discounts', o ->> 'total_price', v_name, v_email,
                                   o ->> 'created_at', o ->> 'updated_at', v_addr::text)), 'hex');

    INSERT INTO nexus.orders AS t (tenant_id, connection_id, marketplace, external_order_id, order_number,
                                   status, marketplace_status, fulfillment_method, currency,
                                   subtotal, tax_total, shipping_total, discount_total, total_amount,
                                   buyer_name, buyer_email, ship_country, shipping_address,
                                   ordered_at, marketplace_updated_at, content_hash)
    VALUES (v_tenant, p_connection_id, 'shopify', o ->> 'id', coalesce(o ->> 'name', o ->> 'order_number'),
            v_status, coalesce(v_fin, 'null') || '/' || coalesce(v_ful, 'null'), v_fm, o ->> 'currency',
            v_subtotal,
            (o ->> 'total_tax')::numeric,
            (o #>> '{total_shipping_price_set,shop_money,amount}')::numeric,
            (o ->> 'total_discounts')::numeric,
            (o ->> 'total_price')::numeric,
            v_name, v_email,
            CASE WHEN v_addr ->> 'country_code' ~ '^[A-Za-z]{2}$' THEN upper(v_addr ->> 'country_code') END,
            v_addr,
            (o ->> 'created_at')::timestamptz,
            (o ->> 'updated_at')::timestamptz,
            v_hash)
    ON CONFLICT (tenant_id, connection_id, external_order_id) DO UPDATE
       SET order_number = excluded.order_number, status = excluded.status,
           marketplace_status = excluded.marketplace_status, fulfillment_method = excluded.fulfillment_method,
           currency = excluded.currency, subtotal = excluded.subtotal, tax_total = excluded.tax_total,
           shipping_total = excluded.shipping_total, discount_total = excluded.discount_total,
           total_amount = excluded.total_amount, buyer_name = excluded.buyer_name,
           buyer_email = excluded.buyer_email, ship_country = excluded.ship_country,
           shipping_address = excluded.shipping_address, ordered_at = excluded.ordered_at,
           marketplace_updated_at = excluded.marketplace_updated_at, content_hash = excluded.content_hash,
           change_seq = nextval('nexus_private.order_change_seq')
     WHERE excluded.marketplace_updated_at >= t.marketplace_updated_at
       AND excluded.content_hash IS DISTINCT FROM t.content_hash
    RETURNING t.id INTO v_id;

    IF FOUND THEN
      DELETE FROM nexus.order_items WHERE tenant_id = v_tenant AND order_id = v_id;
      INSERT INTO nexus.order_items (tenant_id, order_id, line_no, external_item_id, sku, title,
                                     quantity, unit_price, line_total)
      SELECT v_tenant, v_id, li.n, li.e ->> 'id', nullif(li.e ->> 'sku', ''),
             coalesce(nullif(li.e ->> 'name', ''),
                      CASE WHEN nullif(li.e ->> 'variant_title', '') IS NOT NULL
                           THEN nullif(li.e ->> 'title', '') || ' - ' || (li.e ->> 'variant_title')
                           ELSE nullif(li.e ->> 'title', '') END),
             (li.e ->> 'quantity')::integer,
             (li.e ->> 'price')::numeric,
             (li.e ->> 'price')::numeric * (li.e ->> 'quantity')::integer
        FROM jsonb_array_elements(o -> 'line_items') WITH ORDINALITY AS li(e, n);
      v_count := v_count + 1;
    END IF;
  END LOOP;
  RETURN jsonb_build_object('upserted', v_count);
END
$$;

-- ---------------------------------------------------------------- Walmart

-- The order status from its line statuses (fixtures/README.md, "Aggregated status").
CREATE FUNCTION bench_plpgsql.aggregate_status(p_statuses text[])
  RETURNS text
  LANGUAGE plpgsql IMMUTABLE
  AS $$
DECLARE
  v_forward constant text[] := ARRAY['pending', 'confirmed', 'processing', 'shipped', 'delivered', 'completed'];
  s text;
  r integer;
  live integer := 0;
  refunded integer := 0;
  returned integer := 0;
  moved integer := 0;
  n_open integer := 0;
  lowest integer;
  return_initiated boolean := false;
BEGIN
  FOREACH s IN ARRAY p_statuses LOOP
    CONTINUE WHEN s IS NULL OR s = 'cancelled';
    live := live + 1;
    IF s = 'refunded' THEN
      refunded := refunded + 1;
    ELSIF s = 'return_received' THEN
      returned := returned + 1;
    ELSIF s = 'return_initiated' THEN
      return_initiated := true;
    END IF;
    r := array_position(v_forward, s);
    IF r IS NOT NULL THEN
      lowest := least(lowest, r);
      IF r >= 4 THEN
        moved := moved + 1;
      ELSE
        n_open := n_open + 1;
      END IF;
    END IF;
  END LOOP;
  RETURN CASE
    WHEN live = 0 THEN 'cancelled'
    WHEN refunded = live THEN 'refunded'
    WHEN refunded + returned = live THEN 'return_received'
    WHEN moved > 0 AND n_open > 0 THEN 'processing'
    WHEN lowest IS NOT NULL THEN v_forward[lowest]
    WHEN return_initiated THEN 'return_initiated'
    ELSE 'return_received'
  END;
END
$$;

CREATE FUNCTION bench_plpgsql.ingest_walmart(p_connection_id uuid, p_page jsonb)
  RETURNS jsonb
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_tenant uuid;
  o jsonb;
  l jsonb;
  c jsonb;
  e jsonb;
  v_po text;
  v_currency text;
  v_any boolean;
  v_subtotal numeric;
  v_shipping numeric;
  v_tax numeric;
  v_line_total numeric;
  v_back numeric;
  v_refunded boolean;
  v_updated bigint;
  v_raw text;
  v_mapped text;
  v_statuses text[];
  v_raws text[];
  v_qty integer;
  v_addr jsonb;
  v_status text;
  v_hash bytea;
  v_id uuid;
  v_count integer := 0;
  i_ext text[];
  i_sku text[];
  i_title text[];
  i_qty integer[];
  i_unit numeric[];
  i_total numeric[];
BEGIN
  SELECT tenant_id INTO v_tenant
    FROM nexus.marketplace_connections
   WHERE id = p_connection_id AND marketplace = 'walmart';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'walmart connection % does not exist', p_connection_id USING ERRCODE = 'P0002';
  END IF;

  FOR o IN SELECT jsonb_array_elements(p_page #> '{list,elements,order}') LOOP
    v_po := o ->> 'purchaseOrderId';
    v_currency := NULL;
    v_any := false;
    v_subtotal := 0;
    v_shipping := 0;
    v_tax := 0;
    v_updated := NULL;
    v_statuses := '{}';
    v_raws := '{}';
    i_ext := '{}';
    i_sku := '{}';
    i_title := '{}';
    i_qty := '{}';
    i_unit := '{}';
    i_total := '{}';

    FOR l IN SELECT jsonb_array_elements(o #> '{orderLines,orderLine}') LOOP
      -- PRODUCT is the line total, SHIPPING the shipping; both carry tax.  Other charges are left out.
      v_line_total := NULL;
      FOR c IN SELECT jsonb_array_elements(l #> '{charges,charge}') LOOP
        CONTINUE WHEN c ->> 'chargeType' NOT IN ('PRODUCT', 'SHIPPING');
        v_currency := coalesce(v_currency, c #>> '{chargeAmount,currency}');
        v_any := true;
        IF c ->> 'chargeType' = 'PRODUCT' THEN
          v_line_total := coalesce(v_line_total, 0) + (c #>> '{chargeAmount,amount}')::numeric;
        ELSE
          v_shipping := v_shipping + (c #>> '{chargeAmount,amount}')::numeric;
        END IF;
        v_tax := v_tax + coalesce((c #>> '{tax,taxAmount,amount}')::numeric, 0);
      END LOOP;
      v_subtotal := v_subtotal + coalesce(v_line_total, 0);

      -- A line whose PRODUCT refund covers its PRODUCT charge is refunded (unless cancelled).
      v_refunded := false;
      IF jsonb_typeof(l -> 'refund') = 'object' THEN
        SELECT abs(sum((r #>> '{charge,chargeAmount,amount}')::numeric))
          INTO v_back
          FROM jsonb_array_elements(l #> '{refund,refundCharges,refundCharge}') r
         WHERE r #>> '{charge,chargeType}' = 'PRODUCT';
        v_refunded := coalesce(v_back > 0 AND v_back >= coalesce(v_line_total, 0), false);
      END IF;

      FOR e IN SELECT jsonb_array_elements(l #> '{orderLineStatuses,orderLineStatus}') LOOP
        v_raw := e ->> 'status';
        v_mapped := CASE v_raw
                      WHEN 'Created' THEN 'confirmed'
                      WHEN 'Acknowledged' THEN 'processing'
                      WHEN 'Shipped' THEN 'shipped'
                      WHEN 'Delivered' THEN 'delivered'
                      WHEN 'Cancelled' THEN 'cancelled'
                      ELSE 'pending'
                    END;
        IF v_refunded AND v_mapped <> 'cancelled' THEN
          v_mapped := 'refunded';
        END IF;
        v_statuses := v_statuses || v_mapped;
        IF NOT v_raw = ANY (v_raws) THEN
          v_raws := v_raws || v_raw;
        END IF;
      END LOOP;

      v_updated := greatest(v_updated, (l ->> 'statusDate')::bigint);
      v_qty := (l #>> '{orderLineQuantity,amount}')::integer;
      i_ext := i_ext || (v_po || '-' || (l ->> 'lineNumber'));
      i_sku := i_sku || (l #>> '{item,sku}');
      i_title := i_title || (l #>> '{item,productName}');
      i_qty := i_qty || v_qty;
      i_total := i_total || v_line_total;
      i_unit := i_unit || CASE WHEN v_qty > 0 THEN round(v_line_total / v_qty, 2) END;
    END LOOP;

    v_status := bench_plpgsql.aggregate_status(v_statuses);
    v_addr := CASE WHEN jsonb_typeof(o #> '{shippingInfo,postalAddress}') = 'object'
                   THEN o #> '{shippingInfo,postalAddress}' END;
    v_hash := decode(md5(concat_ws('|', v_po, o ->> 'customerOrderId', v_status, array_to_string(v_raws, ','),
                                   o #>> '{shipNode,type}', v_currency, v_subtotal, v_shipping, v_tax,
                                   o ->> 'customerEmailId', o ->> 'orderDate', v_updated, v_addr::text,
                                   array_to_string(i_qty, ','), array_to_string(i_total, ','))), 'hex');

    INSERT INTO nexus.orders AS t (tenant_id, connection_id, marketplace, external_order_id, order_number,
                                   status, marketplace_status, fulfillment_method, currency,
                                   subtotal, tax_total, shipping_total, discount_total, total_amount,
                                   buyer_name, buyer_email, ship_country, shipping_address,
                                   ordered_at, marketplace_updated_at, content_hash)
    VALUES (v_tenant, p_connection_id, 'walmart', v_po, o ->> 'customerOrderId',
            v_status, array_to_string(v_raws, ','),
            CASE WHEN o #>> '{shipNode,type}' ILIKE 'WFSFulfilled' THEN 'FBA' ELSE 'FBM' END,
            v_currency,
            CASE WHEN v_any THEN v_subtotal END,
            CASE WHEN v_any THEN v_tax END,
            CASE WHEN v_any THEN v_shipping END,
            NULL,					-- Walmart reports no discount
            CASE WHEN v_any THEN v_subtotal + v_shipping + v_tax END,
            v_addr ->> 'name', o ->> 'customerEmailId',
            CASE v_addr ->> 'country' WHEN 'USA' THEN 'US' WHEN 'CAN' THEN 'CA' WHEN 'MEX' THEN 'MX' END,
            v_addr,
            to_timestamp((o ->> 'orderDate')::bigint / 1000),
            to_timestamp(v_updated / 1000),
            v_hash)
    ON CONFLICT (tenant_id, connection_id, external_order_id) DO UPDATE
       SET order_number = excluded.order_number, status = excluded.status,
           marketplace_status = excluded.marketplace_status, fulfillment_method = excluded.fulfillment_method,
           currency = excluded.currency, subtotal = excluded.subtotal, tax_total = excluded.tax_total,
           shipping_total = excluded.shipping_total, discount_total = excluded.discount_total,
           total_amount = excluded.total_amount, buyer_name = excluded.buyer_name,
           buyer_email = excluded.buyer_email, ship_country = excluded.ship_country,
           shipping_address = excluded.shipping_address, ordered_at = excluded.ordered_at,
           marketplace_updated_at = excluded.marketplace_updated_at, content_hash = excluded.content_hash,
           change_seq = nextval('nexus_private.order_change_seq')
     WHERE excluded.marketplace_updated_at >= t.marketplace_updated_at
       AND excluded.content_hash IS DISTINCT FROM t.content_hash
    RETURNING t.id INTO v_id;

    IF FOUND THEN
      DELETE FROM nexus.order_items WHERE tenant_id = v_tenant AND order_id = v_id;
      INSERT INTO nexus.order_items (tenant_id, order_id, line_no, external_item_id, sku, title,
                                     quantity, unit_price, line_total)
      SELECT v_tenant, v_id, u.n, u.ext, u.sku, u.title, u.qty, u.unit, u.total
        FROM unnest(i_ext, i_sku, i_title, i_qty, i_unit, i_total)
             WITH ORDINALITY AS u(ext, sku, title, qty, unit, total, n);
      v_count := v_count + 1;
    END IF;
  END LOOP;
  RETURN jsonb_build_object('upserted', v_count);
END
$$;
