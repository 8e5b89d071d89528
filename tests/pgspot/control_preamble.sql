-- pgspot preamble: the control schema is created by `pyloader migrate` (superuser)
CREATE SCHEMA masterfile;
