-- Whether this database is a Citus coordinator: what differs there (tenant
-- roles log in, readers read the _private_ tables, the dispatcher sweeps)
-- asks this one question (docs/scale-out.md).
CREATE OR REPLACE FUNCTION masterfile.on_citus()
RETURNS boolean
LANGUAGE sql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus')
$$;

-- Roles of one tenant. Roles are cluster-wide while schemas are per
-- database, so a role may already exist: it is reused only when it was made
-- for this very tenant schema and role (its comment says so), never when it
-- belongs to anything else (another tenant whose name derives to the same
-- role, e.g. tenant 'x-owner' whose reader would be tenant 'x''s owner).
CREATE OR REPLACE FUNCTION masterfile.tenant_role_marker(p_schema text, p_kind text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT 'masterfile tenant ' || p_schema || ': ' || p_kind
$$;

-- The roles a tenant schema would take, with the kind each plays.
CREATE OR REPLACE FUNCTION masterfile.tenant_role_names(p_schema text, OUT rolname text, OUT kind text)
RETURNS SETOF record
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT p_schema || k.suffix, k.kind
    FROM (VALUES ('', 'reader'), ('_owner', 'owner'), ('_loader', 'loader'), ('_ui', 'ui'),
                 ('_pipeline', 'pipeline')) AS k(suffix, kind)
$$;

-- Existing roles that would collide with a new tenant's: any role of the
-- names it needs that was not made for it. Empty when the tenant may be created.
CREATE OR REPLACE FUNCTION masterfile.tenant_role_collisions(p_schema text)
RETURNS SETOF text
LANGUAGE sql
STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT n.rolname
    FROM masterfile.tenant_role_names(p_schema) n
    JOIN pg_catalog.pg_roles r ON r.rolname = n.rolname
    WHERE pg_catalog.shobj_description(r.oid, 'pg_authid') IS DISTINCT FROM masterfile.tenant_role_marker(p_schema, n.kind)
$$;

CREATE OR REPLACE FUNCTION masterfile.ensure_tenant_roles(p_schema text, p_adopt boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
DECLARE
    v_role   record;
    v_kernel regprocedure;
    -- on a Citus coordinator the roles must log in: Citus reaches a tenant's
    -- worker over a connection of the current role (docs/scale-out.md: only
    -- the nodes may, by pg_hba.conf); elsewhere nobody logs in as them
    v_login  text := CASE WHEN masterfile.on_citus()
                          THEN 'LOGIN' ELSE 'NOLOGIN' END;
BEGIN
    -- guarantees: the five roles of the tenant exist, none can log in but
    -- on Citus (only the authenticator does, and switches to them), each carries the marker
    -- that says whose it is; the authenticator may SET ROLE to every one but
    -- the owner; only the pipeline (and the owner, whose definer functions
    -- mark work) may call the kernels. `p_adopt`: mark roles of a registered
    -- tenant made before markers existed (migrate); a new tenant never adopts.
    IF p_schema !~ '^t_[a-z0-9_]{1,40}$' THEN
        RAISE EXCEPTION 'not a tenant schema name: %', p_schema USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT p_adopt AND EXISTS (SELECT 1 FROM masterfile.tenant_role_collisions(p_schema)) THEN
        RAISE EXCEPTION 'roles % exist and belong to something else than tenant schema %',
            (SELECT string_agg(c, ', ') FROM masterfile.tenant_role_collisions(p_schema) c), p_schema
            USING ERRCODE = 'duplicate_object';
    END IF;
    FOR v_role IN SELECT * FROM masterfile.tenant_role_names(p_schema) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role.rolname) THEN
            EXECUTE format('CREATE ROLE %I %s', v_role.rolname, v_login);
        ELSE
            EXECUTE format('ALTER ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE', v_role.rolname, v_login);
        END IF;
        EXECUTE format('COMMENT ON ROLE %I IS %L', v_role.rolname,
                       masterfile.tenant_role_marker(p_schema, v_role.kind));
        IF v_role.kind IN ('loader', 'ui', 'pipeline') THEN
            EXECUTE format('GRANT %I TO %I', p_schema, v_role.rolname);
        END IF;
        IF v_role.kind <> 'owner' THEN
            EXECUTE format('GRANT %I TO masterfile_app', v_role.rolname);
        END IF;
    END LOOP;
    -- the shared code schema: usable for calling kernels, nothing else
    EXECUTE format('GRANT USAGE ON SCHEMA masterfile TO %I, %I', p_schema, p_schema || '_owner');
    -- kernels are the PL/Python (pyloader/plpython.py) and C (ext/) functions
    -- of masterfile: pure code, but unbounded work for whoever calls them,
    -- so only the pipeline may; grants made to every role before are taken back
    FOR v_kernel IN
        SELECT p.oid::pg_catalog.regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'masterfile'::pg_catalog.regnamespace
          AND p.prolang IN (SELECT l.oid FROM pg_language l WHERE l.lanname IN ('plpython3u', 'c'))
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %I, %I', v_kernel, p_schema, p_schema || '_owner');
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_kernel, p_schema || '_pipeline');
    END LOOP;
    -- advisory locks are the owner's (definer functions: the load lock) and
    -- the pipeline's (key claims) only; 030_locks.sql revokes them from PUBLIC
    EXECUTE format('GRANT EXECUTE ON FUNCTION pg_catalog.pg_try_advisory_lock(bigint),'
                   ' pg_catalog.pg_advisory_unlock(bigint) TO %I, %I', p_schema || '_owner', p_schema || '_pipeline');
    EXECUTE format('GRANT EXECUTE ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(bigint) TO %I',
                   p_schema || '_pipeline');
    -- work hints: the owner's definer functions add them, for its own schema only
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON masterfile.work_hints TO %I', p_schema || '_owner');
    -- temporary tables: the loader stages in them, the pipeline works in them;
    -- nobody else (a database made from a template does not inherit its ACL,
    -- so 030_hardening.sql's revoke is repeated here, where tenants arrive)
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I, %I', current_database(), p_schema || '_loader',
                   p_schema || '_pipeline');
    EXECUTE format('GRANT EXECUTE ON PROCEDURE masterfile.process_tenant(text, integer, double precision, text)'
                   ' TO %I', p_schema || '_pipeline');
END;
$$;

REVOKE ALL ON FUNCTION masterfile.ensure_tenant_roles(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION masterfile.tenant_role_collisions(text) FROM PUBLIC;
