-- What the planner API needs of a tenant beyond 900_grants.sql: the UI
-- acknowledges conflicts, and may write only the two columns that say who
-- and when (t0012); the ERP's and the pipeline's columns stay out of reach.
DO $api$
BEGIN
    EXECUTE format('GRANT UPDATE (acknowledged_by, acknowledged_at) ON conflicts TO %I', '@extschema@' || '_ui');
END
$api$;
