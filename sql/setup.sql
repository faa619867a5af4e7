-- Install nexus beside pg_cron (the Supabase setup), and the helpers the
-- other tests use to emulate PostgREST requests.
CREATE EXTENSION nexus;
SELECT nexus.version() = (SELECT default_version FROM pg_available_extensions WHERE name = 'nexus') AS version_matches;
SELECT extname FROM pg_extension WHERE extname IN ('nexus', 'pg_cron') ORDER BY 1;

-- The Supabase roles exist (created by the extension where absent).
SELECT rolname, rolcanlogin, rolbypassrls FROM pg_roles
 WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY 1;
-- PostgREST's login role, as Supabase sets it up.
CREATE ROLE authenticator LOGIN NOINHERIT;
GRANT anon, authenticated, service_role TO authenticator;

-- Every table is a member of the extension, dumped by pg_dump, and has RLS.
SELECT c.oid::regclass AS tbl, c.relrowsecurity AS rls,
       c.oid = ANY (e.extconfig) AS dumped
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, pg_extension e
 WHERE e.extname = 'nexus' AND n.nspname IN ('nexus', 'nexus_private') AND c.relkind = 'r'
 ORDER BY c.oid::regclass::text;

-- tenant_id leads every primary key.
SELECT c.oid::regclass AS tbl, a.attname AS first_key_column
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
 WHERE k.contype = 'p' AND n.nspname IN ('nexus', 'nexus_private')
 ORDER BY c.oid::regclass::text;

-- No function is executable by PUBLIC, and API roles cannot touch nexus_private.
SELECT p.oid::regprocedure AS public_function
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('nexus', 'nexus_private') AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT r AS role, has_schema_privilege(r, 'nexus_private', 'USAGE') AS private_usage
  FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) r;
-- SECURITY DEFINER functions all pin their search_path.
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('nexus', 'nexus_private') AND p.prosecdef
   AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog'], false);

-- Settings are documented and reserved.
SELECT name, setting, context FROM pg_settings WHERE name LIKE 'nexus.%' ORDER BY 1;
SET nexus.no_such_setting = 1;

-- Emulation of PostgREST.  Each request is one transaction in which
-- PostgREST sets the role and the request settings, then calls the
-- db-pre-request function, then runs the query.
CREATE SCHEMA rest;
GRANT USAGE ON SCHEMA rest TO PUBLIC;
CREATE TABLE rest.users (name text PRIMARY KEY, id uuid NOT NULL);
INSERT INTO rest.users VALUES
  ('olivia', '00000000-0000-4000-8000-0000000000a1'),  -- owner of acme
  ('adam',   '00000000-0000-4000-8000-0000000000a2'),  -- admin of acme
  ('mia',    '00000000-0000-4000-8000-0000000000a3'),  -- manager of acme
  ('victor', '00000000-0000-4000-8000-0000000000a4'),  -- viewer of acme
  ('bob',    '00000000-0000-4000-8000-0000000000b1'),  -- owner of globex
  ('eve',    '00000000-0000-4000-8000-0000000000e1');  -- member of nothing
GRANT SELECT ON rest.users TO PUBLIC;

CREATE FUNCTION rest.uid(p_name text) RETURNS uuid
  LANGUAGE sql STABLE AS $$ SELECT id FROM rest.users WHERE name = p_name $$;
-- Tenant id by slug, whoever asks (the tests need ids they cannot read).
CREATE FUNCTION rest.tid(p_slug text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER AS $$ SELECT tenant_id FROM nexus.tenants WHERE slug = p_slug $$;
GRANT EXECUTE ON FUNCTION rest.uid(text), rest.tid(text) TO PUBLIC;

CREATE FUNCTION rest.request(p_role text, p_claims jsonb DEFAULT NULL, p_headers jsonb DEFAULT '{}')
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('role', p_role, true);
  PERFORM set_config('request.jwt.claims', coalesce(p_claims::text, ''), true);
  PERFORM set_config('request.method', 'GET', true);
  PERFORM set_config('request.path', '/', true);
  PERFORM set_config('request.headers', p_headers::text, true);
  PERFORM nexus.pre_request();
END
$$;
-- A signed-in user; the tenant in the JWT claim, or in x-tenant-id.
CREATE FUNCTION rest.as_user(p_name text, p_claim_tenant text DEFAULT NULL, p_header_tenant text DEFAULT NULL)
  RETURNS void LANGUAGE sql AS $$
  SELECT rest.request('authenticated',
    jsonb_build_object('sub', rest.uid(p_name), 'role', 'authenticated', 'aud', 'authenticated')
      || CASE WHEN p_claim_tenant IS NULL THEN '{}'::jsonb
              ELSE jsonb_build_object('app_metadata', jsonb_build_object('tenant_id', rest.tid(p_claim_tenant))) END,
    CASE WHEN p_header_tenant IS NULL THEN '{}'::jsonb
         ELSE jsonb_build_object('x-tenant-id', coalesce(rest.tid(p_header_tenant)::text, p_header_tenant)) END)
$$;
-- A request carrying an API key and no JWT: PostgREST runs it as anon.
CREATE FUNCTION rest.as_key(p_key text) RETURNS void LANGUAGE sql AS $$
  SELECT rest.request('anon', NULL, jsonb_build_object('x-api-key', p_key))
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA rest TO PUBLIC;

-- Two tenants to work with, made as service_role would.
SELECT slug, plan FROM nexus.create_tenant('Acme Store', 'acme', rest.uid('olivia'));
SELECT slug, plan FROM nexus.create_tenant('Globex', 'globex', rest.uid('bob'));
SELECT m.role FROM nexus.add_member(rest.tid('acme'), rest.uid('adam'), 'admin') m;
SELECT m.role FROM nexus.add_member(rest.tid('acme'), rest.uid('mia'), 'manager') m;
SELECT m.role FROM nexus.add_member(rest.tid('acme'), rest.uid('victor'), 'viewer') m;

-- Run a statement and report its SQLSTATE and message instead of failing:
-- what PostgREST turns into the HTTP status.
CREATE FUNCTION rest.try(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text;
  msg text;
BEGIN
  EXECUTE p_sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END
$$;
GRANT EXECUTE ON FUNCTION rest.try(text) TO PUBLIC;

-- A key file for the credential tests, written by the server as its own
-- file with mode 0600 (what nexus demands of a key file).
CREATE FUNCTION rest.key_file(p_lines text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT unnest(%L::text[])) TO PROGRAM %L', p_lines,
                 format('rm -f %1$s && umask 077 && cat > %1$s',
                        current_setting('data_directory') || '/test_credentials.key'));
  PERFORM pg_reload_conf();
END $$;
REVOKE EXECUTE ON FUNCTION rest.key_file(text[]) FROM PUBLIC;
SELECT rest.key_file(ARRAY['# test key', '1:' || repeat('a1', 32)]);
