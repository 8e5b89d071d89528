-- Roles of one tenant, created when missing. Roles are cluster-wide while
-- schemas are per database, so an existing role is reused, never altered.
CREATE OR REPLACE FUNCTION masterfile.ensure_tenant_roles(p_schema text)
RETURNS void
LANGUAGE plpgsql
VOLATILE STRICT PARALLEL UNSAFE
SET search_path = masterfile, pg_catalog
AS $$
DECLARE
    v_reader text := p_schema;
    v_role   text;
    v_kernel regprocedure;
BEGIN
    -- guarantees: <schema> (group, no login) and <schema>_owner exist, and the
    -- loader, ui and pipeline roles exist as login members of <schema>; both
    -- may call the kernels of masterfile.
    IF p_schema !~ '^t_[a-z0-9_]{1,40}$' THEN
        RAISE EXCEPTION 'not a tenant schema name: %', p_schema USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_reader) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', v_reader);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_schema || '_owner') THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', p_schema || '_owner');
    END IF;
    FOR v_reader IN SELECT unnest(ARRAY['_loader', '_ui', '_pipeline']) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_schema || v_reader) THEN
            EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', p_schema || v_reader, p_schema);
        END IF;
    END LOOP;
    -- the authenticator may switch to every role of the tenant but its owner
    EXECUTE format('GRANT %I, %I, %I, %I TO masterfile_app', p_schema, p_schema || '_loader',
                   p_schema || '_ui', p_schema || '_pipeline');
    -- the shared code schema: usable for calling kernels, nothing else
    EXECUTE format('GRANT USAGE ON SCHEMA masterfile TO %I, %I', p_schema, p_schema || '_owner');
    -- kernels are the PL/Python (pyloader/plpython.py) and C (ext/) functions
    -- of masterfile: pure code, callable by the tenant's roles
    FOR v_kernel IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'masterfile'::regnamespace
          AND p.prolang IN (SELECT l.oid FROM pg_language l WHERE l.lanname IN ('plpython3u', 'c'))
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I, %I', v_kernel, p_schema, p_schema || '_owner');
    END LOOP;
END;
$$;

REVOKE ALL ON FUNCTION masterfile.ensure_tenant_roles(text) FROM PUBLIC;
