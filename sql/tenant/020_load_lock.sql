-- One load of the tenant at a time: a session lock that only these
-- functions take (the loader may not call the advisory-lock functions
-- itself, so no role can hold another tenant's load lock).
CREATE OR REPLACE FUNCTION @extschema@.try_load_lock()
RETURNS boolean
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT pg_try_advisory_lock(masterfile.lock_key('@extschema@', 'load'))
$$;

CREATE OR REPLACE FUNCTION @extschema@.release_load_lock()
RETURNS boolean
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT pg_advisory_unlock(masterfile.lock_key('@extschema@', 'load'))
$$;
