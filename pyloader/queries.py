"""Named SQL of the control plane (registry, tenants, status).

Identifiers are never pasted into these strings: where a query needs a tenant
schema it is composed with psycopg.sql.Identifier at the call site.
"""
from psycopg import sql



def in_tenant(text: str, schema: str, **idents: str) -> sql.Composed:
    """`text` with {s} the tenant schema and every other {name} an identifier, each quoted."""
    return sql.SQL(text).format(s=sql.Identifier(schema), **{k: sql.Identifier(v) for k, v in idents.items()})


CONTROL_SCHEMA = "masterfile"

CONTROL_SCHEMA_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'masterfile')"

TENANT_BY_CLIENT_ID = "SELECT schema_name FROM masterfile.tenants WHERE client_id = %(client_id)s"

TENANT_BY_SCHEMA = "SELECT client_id FROM masterfile.tenants WHERE schema_name = %(schema)s"

LIST_TENANTS = "SELECT client_id, schema_name, created_at FROM masterfile.tenants ORDER BY client_id"

LIST_TENANTS_ENABLED = "SELECT client_id, schema_name, created_at, enabled FROM masterfile.tenants ORDER BY client_id"

REGISTER_TENANT = """
INSERT INTO masterfile.tenants (client_id, schema_name)
VALUES (%(client_id)s, %(schema)s)
ON CONFLICT (client_id) DO NOTHING
"""

UNREGISTER_TENANT = """
WITH hints AS (DELETE FROM masterfile.work_hints WHERE schema_name = %(schema)s)
DELETE FROM masterfile.tenants WHERE client_id = %(client_id)s
"""

HAS_INSTALLED_TABLE = "SELECT to_regclass('masterfile.installed') IS NOT NULL"

CONTROL_CODE_VERSION = "SELECT code_version FROM masterfile.installed"

SET_CONTROL_CODE_VERSION = """
INSERT INTO masterfile.installed (code_version) VALUES (%(version)s)
ON CONFLICT (singleton) DO UPDATE SET code_version = excluded.code_version
"""

TENANT_CODE_VERSIONS = "SELECT schema_name, code_version FROM masterfile.tenants ORDER BY client_id"

SET_CODE_VERSION = "UPDATE masterfile.tenants SET code_version = %(version)s WHERE schema_name = %(schema)s"

SET_TENANT_ENABLED = "UPDATE masterfile.tenants SET enabled = %(enabled)s WHERE client_id = %(client_id)s"

TENANT_ROLE_COLLISIONS = "SELECT masterfile.tenant_role_collisions(%(schema)s)"

# a role with privileges or objects in another database of the cluster
ROLE_USED_ELSEWHERE = """
SELECT EXISTS (SELECT 1 FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
               WHERE r.rolname = %(role)s AND d.dbid NOT IN (0, (SELECT oid FROM pg_database
                                                               WHERE datname = current_database())))
"""

ROLE_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)"

SCHEMA_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %(schema)s)"

# A tenant's revision lives in its own schema (alembic_version), so it moves
# with the schema if the tenant is placed on another node.
def tenant_revision(schema: str) -> sql.Composed:
    return sql.SQL("SELECT version_num FROM {}.alembic_version").format(sql.Identifier(schema))


def tenant_summaries(schemas: list[str]) -> sql.Composed:
    """(schema, revision, queue depth, oldest mark, last run) of each tenant, in one statement."""
    return sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {name}, (SELECT version_num FROM {s}.alembic_version), q.*").format(
            name=sql.Literal(schema), s=sql.Identifier(schema)) + sql.SQL(" FROM (") + tenant_summary(schema)
        + sql.SQL(") q")
        for schema in schemas
    )


def tenant_summary(schema: str) -> sql.Composed:
    """Queue depth (distinct dirty keys), oldest mark, and the last run of one tenant."""
    return sql.SQL(
        """
        SELECT q.queue_depth, q.oldest_mark,
               (SELECT to_jsonb(r) FROM (SELECT run_id, started_at, finished_at, status, keys_done,
                                                rows_written, keys_failed
                                         FROM {s}.runs ORDER BY run_id DESC LIMIT 1) r)
        FROM {s}.queue_status q
        """
    ).format(s=sql.Identifier(schema))


# pg_cron: jobs live in the database named by cron.database_name and may run in
# another one (the tenant's); names carry the database so test clones never clash.
CRON_DATABASE = "SELECT current_setting('cron.database_name', true)"

CRON_JOBS_FOR_DB = "SELECT jobid, jobname FROM cron.job WHERE jobname LIKE %(prefix)s"

CRON_SCHEDULE = """
SELECT cron.schedule_in_database(%(jobname)s, %(schedule)s, %(command)s, %(database)s, %(username)s, %(active)s)
"""

# by id: unscheduling by name finds only the caller's own jobs, and these
# belong to the authenticator role
CRON_UNSCHEDULE = "SELECT cron.unschedule(%(jobid)s)"


def process_dirty(schema: str) -> sql.Composed:
    return sql.SQL("CALL {}.process_dirty(%(batch)s, %(seconds)s, %(trigger)s)").format(sql.Identifier(schema))


def last_run(schema: str) -> sql.Composed:
    """The run this session started last (currval is per session) and its keys."""
    return sql.SQL(
        "SELECT run_id, keys_done FROM {s}.runs"
        " WHERE run_id = currval(pg_get_serial_sequence(quote_ident({name}) || '.runs', 'run_id'))"
    ).format(s=sql.Identifier(schema), name=sql.Literal(schema))


def fail_last_run(schema: str) -> sql.Composed:
    """Mark the run this session started last 'failed' (it raised) and free its liveness lock."""
    return sql.SQL(
        "UPDATE {s}.runs SET status = 'failed', finished_at = clock_timestamp(),"
        " message = 'the run raised an error; see the caller''s log'"
        " WHERE run_id = currval(pg_get_serial_sequence(quote_ident({name}) || '.runs', 'run_id'))"
        " AND status = 'running'"
        " RETURNING pg_advisory_unlock(masterfile.lock_key({name}, 'run/' || run_id))"
    ).format(s=sql.Identifier(schema), name=sql.Literal(schema))


def run_totals(schema: str) -> sql.Composed:
    return sql.SQL(
        "SELECT coalesce(sum(keys_done), 0), coalesce(sum(rows_written), 0), coalesce(sum(keys_failed), 0),"
        " coalesce(sum(feature_rows), 0), coalesce(sum(plan_rows), 0)"
        " FROM {}.runs WHERE run_id = ANY(%(run_ids)s)"
    ).format(sql.Identifier(schema))


def queue_depth(schema: str) -> sql.Composed:
    return sql.SQL(
        "SELECT queue_depth FROM {}.queue_status"
    ).format(sql.Identifier(schema))


def tenant_status(schema: str) -> sql.Composed:
    """Everything `pyloader status` shows, as one JSON document."""
    return sql.SQL(
        """
        SELECT jsonb_build_object(
            'queue_depth', q.queue_depth,
            'queued_marks', q.queued_marks,
            'oldest_dirty_age_seconds', q.oldest_dirty_age_seconds,
            'end_week', (SELECT end_week FROM {s}.pipeline_state),
            'keys', (SELECT count(*) FROM {s}.feature_keys),
            'failed_keys', (SELECT count(*) FROM {s}.failed_keys),
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
        """
    ).format(s=sql.Identifier(schema))


# --- the scheduler (sql/control/040_scheduling.sql) ----------------------------------

DISPATCH = """
CALL masterfile.dispatch(%(max_seconds)s, %(slice_seconds)s, %(batch)s, %(trigger)s, %(only)s)
"""

# whether a dispatcher may take work now (the view dispatch() takes it from)
HINTED = """
SELECT EXISTS (SELECT 1 FROM masterfile.due_work
               WHERE %(only)s::text IS NULL OR schema_name = %(only)s)
"""


# --- export (pyloader/export.py) ------------------------------------------------------

# set in the export's transaction: doubles in their shortest exact text,
# timestamps in UTC with an offset, dates as YYYY-MM-DD; no JIT (below)
EXPORT_SESSION = ("SET LOCAL extra_float_digits = 1; SET LOCAL TimeZone = 'UTC';"
                  " SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL jit = off")

EXPORT_AS_OF_WEEK = "SELECT end_week()"

# a relation's columns in order: name, declared type, base type name, and a
# numeric's precision and scale when its typmod fixes them
EXPORT_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname,
       CASE WHEN t.typname = 'numeric' AND a.atttypmod >= 4 THEN ((a.atttypmod - 4) >> 16) & 65535 END,
       CASE WHEN t.typname = 'numeric' AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = %(schema)s AND c.relname = %(table)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

EXPORT_SNAPSHOT = "SELECT pg_export_snapshot()"

# the Arrow driver's session: the export's snapshot, then the tenant's reader
# role and schema, as db.enter_tenant sets them (composed with sql.Identifier)
EXPORT_ARROW_SESSION = [
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    "SET TRANSACTION SNAPSHOT {snapshot}",
    "SET ROLE {role}",
    "SET search_path = {schema}, pg_catalog, pg_temp",
    "SET extra_float_digits = 1",
    # JIT spent 1.1 s compiling the view's plan for a 3,430-row export that
    # then ran in 50 ms, and did not make the bench tenant's COPY faster
    "SET jit = off",
]
