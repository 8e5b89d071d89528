-- pgspot preamble: the tenant schema is created by `pyloader tenant create`,
-- owned by the tenant's owner role, and no other role may create in it
CREATE SCHEMA extschema;
