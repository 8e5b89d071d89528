-- The planner API's one way to read masterfile.api_tokens: resolve one token
-- hash to its tenant and role. The authenticator (masterfile_app) may call
-- this and nothing else of the table, so it can never list tokens; the
-- caller compares the returned hash with its own in constant time.
--
-- The function runs as masterfile_token_resolver, a role that can log in to
-- nothing and may only read the registry and the tokens and stamp
-- last_used_at, so a flaw in it reaches no further than that.
DO $resolver$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'masterfile_token_resolver') THEN
        CREATE ROLE masterfile_token_resolver NOLOGIN NOINHERIT;
    END IF;
END
$resolver$;

GRANT USAGE ON SCHEMA masterfile TO masterfile_token_resolver;
GRANT SELECT ON masterfile.tenants TO masterfile_token_resolver;
GRANT SELECT, UPDATE (last_used_at) ON masterfile.api_tokens TO masterfile_token_resolver;

CREATE OR REPLACE FUNCTION masterfile.resolve_api_token(p_token_hash bytea)
RETURNS TABLE (token_hash bytea, client_id text, schema_name text, role text, name text)
LANGUAGE plpgsql
VOLATILE STRICT SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
BEGIN
    -- guarantees: at most one row, for a token that is not revoked; its
    -- last_used_at is moved at most once a minute (token list shows it)
    UPDATE masterfile.api_tokens t SET last_used_at = now()
     WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL
       AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
    RETURN QUERY
    SELECT t.token_hash, t.client_id, r.schema_name, t.role, t.name
      FROM masterfile.api_tokens t
      JOIN masterfile.tenants r ON r.client_id = t.client_id
     WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL;
END;
$$;

ALTER FUNCTION masterfile.resolve_api_token(bytea) OWNER TO masterfile_token_resolver;
REVOKE ALL ON FUNCTION masterfile.resolve_api_token(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION masterfile.resolve_api_token(bytea) TO masterfile_app;
