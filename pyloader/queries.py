"""Named SQL of the control plane (registry, tenants, status).

Identifiers are never pasted into these strings: where a query needs a tenant
schema it is composed with psycopg.sql.Identifier at the call site.
"""
from psycopg import sql

CONTROL_SCHEMA = "masterfile"

CONTROL_SCHEMA_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'masterfile')"

TENANT_BY_CLIENT_ID = "SELECT schema_name FROM masterfile.tenants WHERE client_id = %(client_id)s"

TENANT_BY_SCHEMA = "SELECT client_id FROM masterfile.tenants WHERE schema_name = %(schema)s"

LIST_TENANTS = "SELECT client_id, schema_name, created_at FROM masterfile.tenants ORDER BY client_id"

REGISTER_TENANT = """
INSERT INTO masterfile.tenants (client_id, schema_name)
VALUES (%(client_id)s, %(schema)s)
ON CONFLICT (client_id) DO NOTHING
"""

ROLE_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)"

SCHEMA_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %(schema)s)"

# A tenant's revision lives in its own schema (alembic_version), so it moves
# with the schema if the tenant is placed on another node.
def tenant_revision(schema: str) -> sql.Composed:
    return sql.SQL("SELECT version_num FROM {}.alembic_version").format(sql.Identifier(schema))


def tenant_summary(schema: str) -> sql.Composed:
    """Queue depth (distinct dirty keys), oldest mark, and the last run of one tenant."""
    return sql.SQL(
        """
        SELECT (SELECT count(*) FROM (SELECT DISTINCT product_id, location_id FROM {s}.dirty_keys) d),
               (SELECT min(marked_at) FROM {s}.dirty_keys),
               (SELECT to_jsonb(r) FROM (SELECT run_id, started_at, finished_at, status, keys_done,
                                                rows_written, keys_failed
                                         FROM {s}.runs ORDER BY run_id DESC LIMIT 1) r)
        """
    ).format(s=sql.Identifier(schema))


# pg_cron: jobs live in the database named by cron.database_name and may run in
# another one (the tenant's); names carry the database so test clones never clash.
CRON_DATABASE = "SELECT current_setting('cron.database_name', true)"

CRON_JOB_IDS_FOR_DB = "SELECT jobid FROM cron.job WHERE jobname LIKE %(prefix)s"

CRON_SCHEDULE = """
SELECT cron.schedule_in_database(%(jobname)s, %(schedule)s, %(command)s, %(database)s, %(username)s, %(active)s)
"""

# by id: unscheduling by name finds only the caller's own jobs, and these
# belong to the tenants' pipeline roles
CRON_UNSCHEDULE = "SELECT cron.unschedule(%(jobid)s)"


def process_dirty(schema: str) -> sql.Composed:
    return sql.SQL("CALL {}.process_dirty(%(batch)s, %(seconds)s, %(trigger)s)").format(sql.Identifier(schema))


def last_run(schema: str) -> sql.Composed:
    """The run this session started last (currval is per session) and its keys."""
    return sql.SQL(
        "SELECT run_id, keys_done FROM {s}.runs"
        " WHERE run_id = currval(pg_get_serial_sequence(quote_ident({name}) || '.runs', 'run_id'))"
    ).format(s=sql.Identifier(schema), name=sql.Literal(schema))


def run_totals(schema: str) -> sql.Composed:
    return sql.SQL(
        "SELECT coalesce(sum(keys_done), 0), coalesce(sum(rows_written), 0), coalesce(sum(keys_failed), 0),"
        " coalesce(sum(feature_rows), 0), coalesce(sum(plan_rows), 0)"
        " FROM {}.runs WHERE run_id = ANY(%(run_ids)s)"
    ).format(sql.Identifier(schema))


def queue_depth(schema: str) -> sql.Composed:
    return sql.SQL(
        "SELECT count(*) FROM (SELECT DISTINCT product_id, location_id FROM {}.dirty_keys) d"
    ).format(sql.Identifier(schema))


def tenant_status(schema: str) -> sql.Composed:
    """Everything `pyloader status` shows, as one JSON document."""
    return sql.SQL(
        """
        SELECT jsonb_build_object(
            'queue_depth', (SELECT count(*) FROM (SELECT DISTINCT product_id, location_id FROM {s}.dirty_keys) d),
            'queued_marks', (SELECT count(*) FROM {s}.dirty_keys),
            'oldest_dirty_age_seconds',
                (SELECT extract(epoch FROM now() - min(marked_at))::float8 FROM {s}.dirty_keys),
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
        """
    ).format(s=sql.Identifier(schema))


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
