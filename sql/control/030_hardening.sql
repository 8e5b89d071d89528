-- What every role of this database may no longer do, so that one tenant
-- cannot reach or stall another (issue: a hostile tenant holding its own UI
-- or loader role). Per database: function ACLs and database privileges live
-- in each database's catalog.
DO $harden$
DECLARE
    v_fn regprocedure;
BEGIN
    -- Advisory locks: any key any role takes blocks every other holder of
    -- that key, whatever tenant it is; so no role takes them but those
    -- granted here and in ensure_tenant_roles (the pipeline's key claims, the
    -- owner's load lock, the authenticator's dispatch lock).
    FOR v_fn IN
        SELECT p.oid::pg_catalog.regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.proname LIKE 'pg\_%advisory%'
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', v_fn);
    END LOOP;
    GRANT EXECUTE ON FUNCTION pg_catalog.pg_try_advisory_lock(bigint), pg_catalog.pg_advisory_unlock(bigint)
        TO masterfile_app;

    -- Temporary tables: only the roles whose code needs them (the loader's
    -- staging, the pipeline's work tables) may create them; the UI and read
    -- roles may not (ensure_tenant_roles grants TEMP to loader and pipeline).
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());

    -- Other tenants' row counts and activity: the statistics views show
    -- every table of every schema (schema names stay visible in the
    -- catalogs: PostgreSQL has no per-role catalog visibility).
    FOR v_fn IN
        SELECT p.oid::pg_catalog.regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
          AND (p.proname LIKE 'pg\_stat\_get\_%tuples%' OR p.proname LIKE 'pg\_stat\_get\_%scan%'
               OR p.proname LIKE 'pg\_stat\_get\_blocks%' OR p.proname LIKE 'pg\_stat\_get\_%vacuum%'
               OR p.proname LIKE 'pg\_stat\_get\_%analyze%' OR p.proname LIKE 'pg\_stat\_get\_ins\_since%'
               OR p.proname LIKE 'pg\_stat\_get\_mod\_since%' OR p.proname LIKE 'pg\_stat\_get\_xact\_%')
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', v_fn);
    END LOOP;
    REVOKE SELECT ON pg_catalog.pg_stat_all_tables, pg_catalog.pg_stat_user_tables, pg_catalog.pg_stat_sys_tables,
        pg_catalog.pg_stat_xact_all_tables, pg_catalog.pg_stat_xact_user_tables, pg_catalog.pg_stat_xact_sys_tables,
        pg_catalog.pg_statio_all_tables, pg_catalog.pg_statio_user_tables, pg_catalog.pg_statio_sys_tables,
        pg_catalog.pg_stat_all_indexes, pg_catalog.pg_stat_user_indexes, pg_catalog.pg_stat_sys_indexes,
        pg_catalog.pg_statio_all_indexes, pg_catalog.pg_statio_user_indexes, pg_catalog.pg_statio_sys_indexes,
        pg_catalog.pg_statio_all_sequences, pg_catalog.pg_statio_user_sequences, pg_catalog.pg_statio_sys_sequences,
        pg_catalog.pg_stat_user_functions, pg_catalog.pg_stat_xact_user_functions
        FROM PUBLIC;
    -- the planner's estimates of every table's size
    REVOKE SELECT ON pg_catalog.pg_class FROM PUBLIC;
    EXECUTE (SELECT format('GRANT SELECT (%s) ON pg_catalog.pg_class TO PUBLIC',
                           string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum))
             FROM pg_attribute a
             WHERE a.attrelid = 'pg_catalog.pg_class'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attname NOT IN ('reltuples', 'relpages', 'relallvisible'));
END
$harden$;
