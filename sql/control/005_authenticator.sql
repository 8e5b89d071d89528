-- The authenticator: the one role tenant sessions log in as (pyloader/db.py).
-- It owns nothing and inherits nothing; it can only SET ROLE to the tenant
-- roles it is granted (ensure_tenant_roles), so a tenant session can never
-- return to a superuser. Roles are cluster-wide: created once, never altered
-- but for the attributes that make it safe.
DO $auth$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'masterfile_app') THEN
        CREATE ROLE masterfile_app LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
    ELSE
        ALTER ROLE masterfile_app LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
END
$auth$;

GRANT USAGE ON SCHEMA masterfile TO masterfile_app;
-- the registry: which schema a client id has (never who else exists: the
-- tenant roles themselves cannot read it)
GRANT SELECT ON masterfile.tenants TO masterfile_app;
