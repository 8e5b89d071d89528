-- pgspot preamble: the tenant schema is created by `pyloader tenant create`,
-- owned by the tenant's owner role, and no other role may create in it;
-- pyloader/migrate.py's apply_sql runs the files with this search path
CREATE SCHEMA extschema;
SET search_path = pg_catalog, extschema, pg_temp;
