-- pgspot preamble: the control schema is created by `pyloader migrate` (superuser);
-- pyloader/migrate.py's apply_sql runs the files with this search path
CREATE SCHEMA masterfile;
SET search_path = pg_catalog, masterfile, pg_temp;
