-- Orders API (src/orders.c, src/ingest.c).

CREATE FUNCTION nexus.normalize_order(marketplace text, payload json) RETURNS jsonb
  LANGUAGE c STABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'nexus_normalize_order';
COMMENT ON FUNCTION nexus.normalize_order(text, json) IS
  'One marketplace order (its single-order or detail response) as the canonical order; writes nothing';

CREATE FUNCTION nexus.normalize_page(marketplace text, payload json, headers json DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'nexus_normalize_page';
COMMENT ON FUNCTION nexus.normalize_page(text, json, json) IS
  'A marketplace list-response page as {"orders": [...], "next_cursor": ...}, with "detail_ids" where the list carries summaries only (bol, Kaufland) and "failed" for orders that could not be read; headers (lower-case names) where the marketplace paginates by them (Shopify''s link); writes nothing';

CREATE FUNCTION nexus.ingest_orders(connection_id uuid, payload json, headers json DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS 'MODULE_PATHNAME', 'nexus_ingest_orders';
COMMENT ON FUNCTION nexus.ingest_orders(uuid, json, json) IS
  'Upsert one order or a whole list page of the connection''s marketplace; returns {inserted, updated, unchanged, stale, failed} (manager and above, a key with orders:write, or service_role)';
