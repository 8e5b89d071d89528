-- Every statement the Python side runs, named (procrastinate's queries.sql).
--
-- A block starts at a `-- name: <name>` line and runs to the next one;
-- pyloader/queries.py loads the file once and binds each block to one Python
-- name: a constant NAME, or a function name(schema, ...) when the block is a
-- template. Full-line comments are dropped from the statements.
--
-- Templates: {s} is the tenant schema and every other {field} an identifier,
-- each quoted by psycopg.sql (queries.in_tenant); {schema_name} is the tenant
-- schema as a value. In a template a literal brace is doubled ('{{}}').
-- Values are always bound parameters, %(name)s.
--
-- Two kinds of SQL are not here: what is assembled from parts chosen at run
-- time (the API's lists and settings documents, the export's column list and
-- filters) is assembled in queries.py, next to this file; and the loader's
-- staging, COPY and merge (pyloader/load.py), which are built per entity from
-- its columns and are the loader's one set-based statement: the one stated
-- exception.


-- ==== sessions (pyloader/db.py) ================================================

-- name: control_schema_exists
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'masterfile')

-- name: create_database
CREATE DATABASE {db}

-- name: drop_database
DROP DATABASE IF EXISTS {db} WITH (FORCE)

-- name: enter_tenant
-- the one role switch of every tenant session, in one statement (one round
-- trip, and one command as Citus wants it); {local} is true for one
-- transaction (a pooled connection, a migration as the owner)
SELECT pg_catalog.set_config('role', {role}, {local}), pg_catalog.set_config('search_path', {path}, {local})

-- name: leave_tenant
RESET ROLE;
RESET search_path

-- name: read_only_transaction
SET TRANSACTION READ ONLY


-- ==== the registry (pyloader/tenants.py) ========================================

-- name: tenant_by_client_id
SELECT schema_name FROM masterfile.tenants WHERE client_id = %(client_id)s

-- name: tenant_by_schema
SELECT client_id FROM masterfile.tenants WHERE schema_name = %(schema)s

-- name: list_tenants
SELECT client_id, schema_name, created_at FROM masterfile.tenants ORDER BY client_id

-- name: list_tenants_enabled
SELECT client_id, schema_name, created_at, enabled FROM masterfile.tenants ORDER BY client_id

-- name: lock_tenants
-- one provisioner (create, drop) at a time
SELECT pg_advisory_xact_lock(hashtext('masterfile.tenants'))

-- name: register_tenant
INSERT INTO masterfile.tenants (client_id, schema_name)
VALUES (%(client_id)s, %(schema)s)
ON CONFLICT (client_id) DO NOTHING

-- name: unregister_tenant
WITH hints AS (DELETE FROM masterfile.work_hints WHERE schema_name = %(schema)s)
DELETE FROM masterfile.tenants WHERE client_id = %(client_id)s

-- name: set_tenant_enabled
UPDATE masterfile.tenants SET enabled = %(enabled)s WHERE client_id = %(client_id)s

-- name: tenant_role_collisions
SELECT masterfile.tenant_role_collisions(%(schema)s)

-- name: ensure_tenant_roles
-- `adopt`: a registered tenant's roles made before they carried their marker are adopted
SELECT masterfile.ensure_tenant_roles(%(schema)s, %(adopt)s)

-- name: create_tenant_schema
CREATE SCHEMA {s} AUTHORIZATION {owner};
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} REVOKE EXECUTE ON ROUTINES FROM PUBLIC

-- name: citus_installed
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')

-- name: schema_distributed
-- citus_schemas lists the distributed schemas (Citus 12 and later)
SELECT EXISTS (SELECT 1 FROM citus_schemas WHERE schema_name::text = %(schema)s)

-- name: tenant_trigger_drops
-- the statements that drop every trigger of the tenant's tables, built with format('%%I')
SELECT format('DROP TRIGGER %%I ON %%I.%%I', t.tgname, n.nspname, c.relname)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND NOT t.tgisinternal
ORDER BY c.relname, t.tgname

-- name: distribute_schema
SELECT citus_schema_distribute(%(schema)s::regnamespace)

-- name: drop_tenant_schema
DROP SCHEMA {s} CASCADE

-- name: drop_owned_by
DROP OWNED BY {role}

-- name: drop_role
DROP ROLE {role}

-- name: role_exists
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)

-- name: role_used_elsewhere
-- a role with privileges or objects in another database of the cluster
SELECT EXISTS (SELECT 1 FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
               WHERE r.rolname = %(role)s AND d.dbid NOT IN (0, (SELECT oid FROM pg_database
                                                               WHERE datname = current_database())))

-- name: schema_exists
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %(schema)s)


-- ==== migrations (pyloader/migrate.py) ==========================================

-- name: lock_migrations
-- one migrator at a time; a second waits instead of racing on DDL
SELECT pg_advisory_xact_lock(hashtext('masterfile.migrate'))

-- name: lock_tenant_migration
SELECT pg_advisory_xact_lock(hashtext('masterfile.migrate.' || %(schema)s))

-- name: create_control_schema
CREATE SCHEMA IF NOT EXISTS masterfile;
SET LOCAL search_path = masterfile, pg_catalog

-- name: reset_search_path
RESET search_path

-- name: sql_search_path
-- sql/ files run with pg_catalog first and pg_temp last, as every function they create pins it
SET LOCAL search_path = pg_catalog, {s}, pg_temp

-- name: has_installed_table
SELECT to_regclass('masterfile.installed') IS NOT NULL

-- name: control_code_version
SELECT code_version FROM masterfile.installed

-- name: set_control_code_version
INSERT INTO masterfile.installed (code_version) VALUES (%(version)s)
ON CONFLICT (singleton) DO UPDATE SET code_version = excluded.code_version

-- name: tenant_code_versions
SELECT schema_name, code_version FROM masterfile.tenants ORDER BY client_id

-- name: set_code_version
UPDATE masterfile.tenants SET code_version = %(version)s WHERE schema_name = %(schema)s

-- The statements of a tenant migration that adds declared features
-- (pyloader/features.py writes the migration's body from them; nothing here
-- runs them): the lock wait it accepts, the columns, the view made again by
-- the reload, and every key queued for its features.
-- name: feature_migration_lock_timeout
SET LOCAL lock_timeout = '10s'

-- name: feature_migration_alter_table
ALTER TABLE features {columns}

-- name: feature_migration_add_column
ADD COLUMN {name} {type}

-- name: feature_migration_drop_column
DROP COLUMN {name}

-- name: feature_migration_drop_view
DROP VIEW IF EXISTS master_file

-- name: feature_migration_queue_every_key
INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope) VALUES (NULL, NULL, NULL, 'features')

-- name: feature_columns
-- the features table's columns after its key and week, with their types
-- (compared with sql/control/015_features_declared.sql before a reload)
SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = (SELECT c.oid FROM pg_catalog.pg_class c
                    WHERE c.relnamespace = %(schema)s::regnamespace AND c.relname = 'features')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attname NOT IN ('product_id', 'location_id', 'week_start', 'week_index')
ORDER BY a.attnum

-- name: has_queued_work
SELECT EXISTS (SELECT 1 FROM {s}._private_dirty_keys)

-- name: hint_work
-- a writer's last statement (the loader's batch, the API's edit, a
-- migration): a hint sent from this session, as marking triggers on a Citus
-- worker cannot (070_marking.sql); a hint with nothing queued costs the
-- dispatcher one look
SELECT {s}.hint_work()

-- name: tenant_revision
-- a tenant's revision lives in its own schema (alembic_version), so it moves
-- with the schema if the tenant is placed on another node
SELECT version_num FROM {s}.alembic_version


-- ==== status (pyloader tenant list, pyloader status) ===========================

-- name: tenant_summary
-- queue depth (distinct dirty keys), oldest mark, and the last run of one tenant
SELECT q.queue_depth, q.oldest_mark,
       (SELECT to_jsonb(r) FROM (SELECT run_id, started_at, finished_at, status, keys_done,
                                        rows_written, keys_failed
                                 FROM {s}.runs ORDER BY run_id DESC LIMIT 1) r)
FROM {s}.queue_status q

-- name: tenant_summary_row
-- one branch of tenant_summaries' UNION ALL: (schema, revision, tenant_summary)
SELECT {schema_name}, (SELECT version_num FROM {s}.alembic_version), q.* FROM ({summary}) q

-- name: tenant_status
-- everything `pyloader status` shows, as one JSON document
SELECT jsonb_build_object(
    'queue_depth', q.queue_depth,
    'queued_marks', q.queued_marks,
    'oldest_dirty_age_seconds', q.oldest_dirty_age_seconds,
    'end_week', q.end_week,
    'keys', q.known_keys,
    'failed_keys', q.failed_keys,
    'last_runs', (SELECT coalesce(jsonb_agg(r ORDER BY r.run_id DESC), '[]')
                  FROM (SELECT run_id, trigger, status, started_at, finished_at, keys_done,
                               rows_written, feature_rows, plan_rows, keys_failed
                        FROM {s}.runs ORDER BY run_id DESC LIMIT 5) r),
    'last_loads', (SELECT coalesce(jsonb_agg(l ORDER BY l.load_id DESC), '[]')
                   FROM (SELECT load_id, source, entity, status, started_at, finished_at, read_count,
                                applied_count, unchanged_count, stale_count, rejected_count, message
                         FROM {s}.loads ORDER BY load_id DESC LIMIT 10) l),
    'rejects', (SELECT count(*) FROM {s}.rejects),
    'conflicts', (SELECT count(*) FROM {s}.conflicts)
)
FROM {s}.queue_status q

-- name: queue_depth
SELECT queue_depth FROM {s}.queue_status

-- name: tenant_metrics
-- one tenant's figures for /metrics as one JSON document; the session's
-- search_path is the tenant's schema (enter_tenant), so no identifier is pasted in
SELECT jsonb_build_object(
    'queue_depth', q.queue_depth,
    'queued_marks', q.queued_marks,
    'oldest_dirty_age', coalesce(q.oldest_dirty_age_seconds, 0),
    'failed_keys', q.failed_keys,
    'runs', (SELECT coalesce(jsonb_object_agg(status, n), '{}')
             FROM (SELECT status, count(*) AS n FROM runs GROUP BY status) r),
    'run_keys_failed', (SELECT coalesce(sum(keys_failed), 0) FROM runs),
    'run_keys_done', (SELECT coalesce(sum(keys_done), 0) FROM runs),
    'run_durations', (
        WITH finished AS (SELECT extract(epoch FROM finished_at - started_at)::float8 AS d
                          FROM runs WHERE finished_at IS NOT NULL)
        SELECT jsonb_build_object(
            'count', (SELECT count(*) FROM finished),
            'sum', (SELECT coalesce(sum(d), 0) FROM finished),
            'le', (SELECT jsonb_agg((SELECT count(*) FROM finished WHERE d <= b) ORDER BY b)
                   FROM unnest(%(buckets)s::float8[]) b))),
    'loads', (SELECT coalesce(jsonb_agg(jsonb_build_object('entity', entity, 'status', status, 'n', n)), '[]')
              FROM (SELECT entity, status, count(*) AS n FROM loads GROUP BY entity, status) l),
    'load_rejected', (SELECT coalesce(jsonb_object_agg(entity, n), '{}')
                      FROM (SELECT entity, sum(rejected_count) AS n FROM loads GROUP BY entity) l),
    'rejects_stored', (SELECT count(*) FROM rejects),
    'retries', (SELECT coalesce(jsonb_object_agg(entity, n), '{}')
                FROM (SELECT entity, sum(retries) AS n FROM loads GROUP BY entity) r),
    'conflicts', (SELECT count(*) FROM conflicts)
)
FROM queue_status q


-- ==== processing (pyloader/run.py, pyloader/worker.py, pg_cron) =================

-- name: process_dirty
CALL {s}.process_dirty(%(batch)s, %(seconds)s, %(trigger)s)

-- name: session_run
-- the run this session started last: the last value it drew from the runs'
-- sequence (per session), asked alone, so on Citus it is this session's and
-- not a worker's
SELECT currval(pg_get_serial_sequence(quote_ident({schema_name}) || '.runs', 'run_id'))

-- name: last_run
SELECT run_id, keys_done FROM {s}.runs WHERE run_id = %(run_id)s

-- name: fail_last_run
-- mark the run this session started last 'failed' (it raised); its liveness
-- lock is freed next (unlock_run), in this session
UPDATE {s}.runs SET status = 'failed', finished_at = %(at)s,
                    message = 'the run raised an error; see the caller''s log'
WHERE run_id = %(run_id)s AND status = 'running'

-- name: unlock_run
SELECT pg_advisory_unlock(masterfile.lock_key({schema_name}, 'run/' || %(run_id)s))

-- name: run_totals
SELECT coalesce(sum(keys_done), 0), coalesce(sum(rows_written), 0), coalesce(sum(keys_failed), 0),
       coalesce(sum(feature_rows), 0), coalesce(sum(plan_rows), 0)
FROM {s}.runs WHERE run_id = ANY(%(run_ids)s)

-- name: dispatch
-- the scheduler (sql/control/040_scheduling.sql)
CALL masterfile.dispatch(%(max_seconds)s, %(slice_seconds)s, %(batch)s, %(trigger)s, %(only)s)

-- name: hinted
-- whether a dispatcher may take work now (the view dispatch() takes it from)
SELECT EXISTS (SELECT 1 FROM masterfile.due_work
               WHERE %(only)s::text IS NULL OR schema_name = %(only)s)

-- name: listen
LISTEN {channel}

-- name: cron_database
-- pg_cron: jobs live in the database named by cron.database_name and may run in
-- another one (the tenant's); names carry the database so test clones never clash
SELECT current_setting('cron.database_name', true), current_database()

-- name: cron_jobs_for_db
SELECT jobid, jobname, schedule, command, database, username, active FROM cron.job WHERE jobname LIKE %(prefix)s

-- name: cron_schedule
SELECT cron.schedule_in_database(%(jobname)s, %(schedule)s, %(command)s, %(database)s, %(username)s, %(active)s)

-- name: cron_unschedule
-- by id: unscheduling by name finds only the caller's own jobs, and these
-- belong to the authenticator role
SELECT cron.unschedule(%(jobid)s)

-- name: cron_dispatch_command
-- what each dispatcher job runs, every minute, as the authenticator
CALL masterfile.dispatch(50, 5, 500, 'cron')

-- name: cron_purge_command
DELETE FROM cron.job_run_details WHERE end_time < now() - interval '1 day'


-- ==== loading (pyloader/load.py; its staging and merge are built there) =========

-- name: loader_session
-- a batch's merge is a few milliseconds of work per thousand rows, but a big
-- table with stale statistics gets it a cost estimate that triggers JIT
-- compilation: hundreds of milliseconds per batch, for nothing
SET application_name = 'pyloader load';
SET jit = off

-- name: try_load_lock
-- the tenant's own lock functions (sql/tenant/020_load_lock.sql): the
-- loader role cannot take advisory locks itself
SELECT try_load_lock()

-- name: release_load_lock
SELECT release_load_lock()

-- name: start_load
INSERT INTO {s}.loads (source, entity) VALUES (%(source)s, %(entity)s) RETURNING load_id

-- name: count_batch
UPDATE {s}.loads
SET read_count = read_count + %(read)s, applied_count = applied_count + %(applied)s,
    unchanged_count = unchanged_count + %(unchanged)s, stale_count = stale_count + %(stale)s,
    rejected_count = rejected_count + %(rejected)s
WHERE load_id = %(load_id)s

-- name: finish_load
UPDATE {s}.loads SET status = %(status)s, finished_at = %(at)s, message = %(message)s,
                     retries = %(retries)s
WHERE load_id = %(load_id)s

-- name: copy_rejects
COPY {s}.rejects (load_id, entity, raw, reason) FROM STDIN

-- name: reap_stale_loads
-- run under the tenant's load lock: no load of this tenant is running, so
-- a 'running' row is one whose process died
UPDATE {s}.loads SET status = 'interrupted', finished_at = %(at)s,
    message = coalesce(message || '; ', '') || 'its process ended before it finished (found by a later load)'
WHERE status = 'running'
RETURNING load_id

-- name: move_watermark
-- never backwards: a load that saw nothing newer leaves the watermark alone
INSERT INTO {s}.watermarks AS w (entity, updated_at) VALUES (%(entity)s, %(updated_at)s)
ON CONFLICT (entity) DO UPDATE SET updated_at = excluded.updated_at
WHERE w.updated_at < excluded.updated_at

-- name: watermarks
SELECT entity, updated_at FROM {s}.watermarks

-- name: loader_config
SELECT api_token, lookback FROM {s}.loader_config


-- ==== export (pyloader/export.py) ===============================================

-- name: export_session
-- set in the export's transaction: doubles in their shortest exact text,
-- timestamps in UTC with an offset, dates as YYYY-MM-DD; no JIT (export_arrow_settings)
SET LOCAL extra_float_digits = 1; SET LOCAL TimeZone = 'UTC';
SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL jit = off

-- name: export_as_of_week
SELECT end_week()

-- name: export_columns
-- a relation's columns in order: name, declared type, base type name, and a
-- numeric's precision and scale when its typmod fixes them
SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname,
       CASE WHEN t.typname = 'numeric' AND a.atttypmod >= 4 THEN ((a.atttypmod - 4) >> 16) & 65535 END,
       CASE WHEN t.typname = 'numeric' AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = %(schema)s AND c.relname = %(table)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum

-- name: export_snapshot
SELECT pg_export_snapshot()

-- name: export_arrow_snapshot
-- the Arrow driver's session, one statement at a time (it prepares each):
-- the export's snapshot, then (db.tenant_statements) the tenant's reader role
-- and schema, then export_arrow_settings
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET TRANSACTION SNAPSHOT {snapshot}

-- name: export_arrow_settings
-- JIT spent 1.1 s compiling the view's plan for a 3,430-row export that
-- then ran in 50 ms, and did not make the bench tenant's COPY faster
SET extra_float_digits = 1;
SET jit = off


-- ==== the planner API (pyloader/api/) ===========================================
-- These run in a request's transaction after db.enter_tenant() has set the
-- role and `search_path = <tenant schema>, pg_catalog, pg_temp`, so tenant
-- objects are named unqualified and no identifier is ever built from input.

-- name: status
SELECT jsonb_build_object(
    'end_week', q.end_week,
    'queue_depth', q.queue_depth,
    'oldest_dirty_age_seconds', q.oldest_dirty_age_seconds,
    'last_run', (SELECT jsonb_build_object('run_id', run_id, 'started', started_at, 'finished', finished_at,
                                           'keys', keys_done, 'status', status)
                 FROM runs ORDER BY run_id DESC LIMIT 1),
    'open_conflicts', (SELECT count(*) FROM conflicts WHERE acknowledged_at IS NULL))
FROM queue_status q

-- name: health
SELECT 1

-- name: now
SELECT now()

-- name: clock
-- the time a statement writes, as a value: Citus refuses clock_timestamp()
-- and now() in an UPDATE of a tenant's table (docs/scale-out.md)
SELECT clock_timestamp()

-- name: changed_recommendations
-- the event feed: rows the pipeline wrote since a moment (index t0012)
SELECT product_id, location_id, recommended_qty, reason, computed_at
FROM recommendations WHERE computed_at > %(since)s
ORDER BY computed_at, product_id, location_id
LIMIT %(limit)s

-- name: decide
-- one statement for a single decision and for a set: a field left out keeps its value
UPDATE recommendations r SET
    decision = CASE WHEN d.set_decision THEN d.decision ELSE r.decision END,
    approved_qty = CASE WHEN d.set_qty THEN d.approved_qty ELSE r.approved_qty END,
    note = CASE WHEN d.set_note THEN d.note ELSE r.note END,
    decided_by = %(decided_by)s,
    decided_at = %(at)s
FROM unnest(%(product_id)s::text[], %(location_id)s::text[], %(set_decision)s::bool[], %(decision)s::text[],
            %(set_qty)s::bool[], %(approved_qty)s::float8[], %(set_note)s::bool[], %(note)s::text[])
     AS d (product_id, location_id, set_decision, decision, set_qty, approved_qty, set_note, note)
WHERE r.product_id = d.product_id AND r.location_id = d.location_id
RETURNING r.*

-- name: tenant_settings
SELECT as_of_date, default_service_level, default_lead_time_days, horizon_weeks, updated_by, updated_at FROM settings

-- name: update_tenant_settings
-- {fields}: `column = %(column)s` for each field the request sets (queries.update_tenant_settings)
UPDATE settings SET {fields}, updated_by = %(by)s

-- name: acknowledge
UPDATE conflicts SET acknowledged_by = %(by)s, acknowledged_at = %(at)s
WHERE conflict_id = %(conflict_id)s AND acknowledged_at IS NULL
RETURNING *

-- name: conflict
SELECT * FROM conflicts WHERE conflict_id = %(conflict_id)s

-- name: create_api_token
INSERT INTO masterfile.api_tokens (client_id, name, role, token_hash)
VALUES (%(client_id)s, %(name)s, %(role)s, %(token_hash)s)
RETURNING token_id, created_at

-- name: list_api_tokens
SELECT name, role, created_at, last_used_at, revoked_at
FROM masterfile.api_tokens WHERE client_id = %(client_id)s
ORDER BY revoked_at IS NOT NULL, name, token_id

-- name: revoke_api_token
UPDATE masterfile.api_tokens SET revoked_at = now()
WHERE client_id = %(client_id)s AND name = %(name)s AND revoked_at IS NULL
RETURNING token_id

-- name: resolve_api_token
SELECT token_hash, client_id, schema_name, role, name FROM masterfile.resolve_api_token(%(token_hash)s)


-- ==== make demo (pyloader/demo.py) ==============================================

-- name: demo_undo_edits
-- the demo's own UI edits, taken back so "before" is again the ERP's view
DELETE FROM {s}.ui_supplier_settings WHERE supplier_id = %(supplier)s;
DELETE FROM {s}.ui_location_settings WHERE location_id = %(location)s;
UPDATE {s}.settings SET as_of_date = %(as_of)s WHERE as_of_date IS DISTINCT FROM %(as_of)s

-- name: demo_supplier_lead_time
INSERT INTO {s}.ui_supplier_settings (supplier_id, lead_time_days) VALUES (%(supplier)s, %(days)s)
ON CONFLICT (supplier_id) DO UPDATE SET lead_time_days = excluded.lead_time_days

-- name: demo_disable_location
INSERT INTO {s}.ui_location_settings (location_id, enabled) VALUES (%(location)s, false)
ON CONFLICT (location_id) DO UPDATE SET enabled = excluded.enabled

-- name: demo_recommendations
SELECT r.product_id, r.location_id, p.supplier_id, r.lead_time_weeks, r.recommended_qty, r.reason
FROM {s}.recommendations r LEFT JOIN {s}.erp_products p USING (product_id)
ORDER BY r.product_id, r.location_id

-- name: demo_summary
SELECT q.end_week,
       q.known_keys,
       (SELECT count(*) FROM {s}.features),
       (SELECT count(*) FROM {s}.forecasts),
       (SELECT count(*) FROM {s}.recommendations),
       (SELECT coalesce(sum(recommended_qty), 0) FROM {s}.recommendations),
       (SELECT coalesce(jsonb_object_agg(reason, n), '{{}}') FROM
            (SELECT reason, count(*) AS n FROM {s}.recommendations GROUP BY reason) r),
       q.queued_marks
FROM {s}.queue_status q
