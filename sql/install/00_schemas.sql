-- nexus install script, built by concatenating sql/install/*.sql in order.
\echo Use "CREATE EXTENSION nexus" to load this file. \quit

-- The API roles of a Supabase/PostgREST setup.  Plain PostgreSQL servers get
-- them here, with the attributes Supabase gives them, so that the policies
-- and grants below have someone to name.  PostgREST's own login role
-- (authenticator) is left to whoever installs PostgREST.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
    RAISE NOTICE 'nexus created the role "anon"';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
    RAISE NOTICE 'nexus created the role "authenticated"';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    RAISE NOTICE 'nexus created the role "service_role"';
  END IF;
END
$roles$;

CREATE SCHEMA nexus;
COMMENT ON SCHEMA nexus IS 'NexusCommerce: tables, views and functions for API roles';
CREATE SCHEMA nexus_private;
COMMENT ON SCHEMA nexus_private IS 'NexusCommerce internals: credentials, outboxes, worker state; no API role may use it';

REVOKE ALL ON SCHEMA nexus_private FROM PUBLIC;
GRANT USAGE ON SCHEMA nexus TO anon, authenticated, service_role;
