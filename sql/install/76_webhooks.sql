-- Order webhooks (src/webhooks.c).  One endpoint per marketplace that
-- pushes signed HTTP order events, for PostgREST: POST /rpc/webhook_<name>
-- with the marketplace's raw body (a single unnamed json parameter keeps
-- the exact bytes the signature covers), headers from request.headers.

-- Public keys eBay and bol sign with, fetched from their key endpoints by
-- sync worker 1 when a webhook names one missing here (bgworker/worker.c);
-- expires_at is when a key is to be fetched again (eBay: an hour, bol: a day).
CREATE TABLE nexus_private.webhook_keys (
  marketplace text NOT NULL,
  key_id      text NOT NULL,
  public_key  text NOT NULL,
  expires_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_keys_pkey PRIMARY KEY (marketplace, key_id),
  CONSTRAINT webhook_keys_marketplace_check CHECK (marketplace IN ('ebay', 'bol')),
  CONSTRAINT webhook_keys_pem_check CHECK (public_key LIKE '-----BEGIN PUBLIC KEY-----%')
);
COMMENT ON TABLE nexus_private.webhook_keys IS
  'Marketplace-wide public keys for webhook signatures (eBay ECDSA, bol RSA); fetched by the sync workers when a webhook names a key missing or expired here';
ALTER TABLE nexus_private.webhook_keys ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('nexus_private.webhook_keys', '');

CREATE FUNCTION nexus.store_webhook_key(marketplace text, key_id text, public_key text,
                                        expires_at timestamptz DEFAULT NULL)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  pem text := btrim(store_webhook_key.public_key);
BEGIN
  IF NOT nexus_private.caller_is_service() THEN
    RAISE EXCEPTION 'permission denied to store webhook keys'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Webhook keys are marketplace-wide: only service_role and superusers store them.';
  END IF;
  IF store_webhook_key.marketplace NOT IN ('ebay', 'bol') THEN
    RAISE EXCEPTION '% signs webhooks with a shared secret, not a public key', store_webhook_key.marketplace
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Public keys are stored for ebay and bol.';
  END IF;
  -- bol lists keys as base64 DER: wrap them as PEM.
  IF pem NOT LIKE '-----BEGIN%' THEN
    IF pem !~ '^[A-Za-z0-9+/=\s]+$' THEN
      RAISE EXCEPTION 'public_key is neither PEM nor base64 DER'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    pem := '-----BEGIN PUBLIC KEY-----' || E'\n' ||
           regexp_replace(regexp_replace(pem, '\s', '', 'g'), '(.{64})', E'\\1\n', 'g') ||
           E'\n-----END PUBLIC KEY-----\n';
    pem := replace(pem, E'\n\n', E'\n');
  END IF;
  INSERT INTO nexus_private.webhook_keys (marketplace, key_id, public_key, expires_at)
  VALUES (store_webhook_key.marketplace, store_webhook_key.key_id, pem, store_webhook_key.expires_at)
  ON CONFLICT (marketplace, key_id) DO UPDATE
     SET public_key = excluded.public_key, expires_at = excluded.expires_at;
END
$$;
COMMENT ON FUNCTION nexus.store_webhook_key(text, text, text, timestamptz) IS
  'Store a marketplace''s webhook signing key (PEM, or base64 DER as bol lists them); service_role only';

CREATE FUNCTION nexus_private.receive_webhook(marketplace text, headers text, body text) RETURNS jsonb
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'nexus_receive_webhook';

CREATE FUNCTION nexus.receive_webhook(marketplace text, headers jsonb, body text) RETURNS jsonb
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
    SELECT nexus_private.receive_webhook(marketplace,
             coalesce((SELECT jsonb_object_agg(lower(h.key), h.value) FROM jsonb_each(headers) h),
                      '{}'::jsonb)::text,
             body)
  $$;
COMMENT ON FUNCTION nexus.receive_webhook(text, jsonb, text) IS
  'Verify, record and ingest one marketplace webhook delivered through a gateway other than PostgREST: headers as a JSON object, body as the exact text received';

DO $endpoints$
DECLARE
  m text;
BEGIN
  FOREACH m IN ARRAY ARRAY['shopify', 'walmart', 'kaufland', 'ebay', 'bol'] LOOP
    EXECUTE format($f$
      CREATE FUNCTION nexus.webhook_%1$s(json) RETURNS jsonb
        LANGUAGE sql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog
        AS $body$
          SELECT nexus_private.receive_webhook(%1$L,
                   coalesce(nullif(current_setting('request.headers', true), ''), '{}'),
                   $1::text)
        $body$$f$, m);
    EXECUTE format($f$COMMENT ON FUNCTION nexus.webhook_%1$s(json) IS
      'PostgREST endpoint for %1$s order webhooks: POST /rpc/webhook_%1$s with the raw body'$f$, m);
  END LOOP;
END
$endpoints$;
