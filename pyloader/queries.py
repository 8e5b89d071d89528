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

CRON_JOB_NAMES_FOR_DB = "SELECT jobname FROM cron.job WHERE jobname LIKE %(prefix)s"

CRON_SCHEDULE = """
SELECT cron.schedule_in_database(%(jobname)s, %(schedule)s, %(command)s, %(database)s, %(username)s, %(active)s)
"""

CRON_UNSCHEDULE = "SELECT cron.unschedule(%(jobname)s)"
