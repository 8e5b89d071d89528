"""Tenant provisioning and listing.

A tenant is one schema, its roles, its tables at head and its scheduled jobs.
Creating one commits its registry row, roles and empty schema, then its
tables, code and grants (undone when that fails); creating it again changes
nothing.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from pyloader import db, migrate, queries
from pyloader.config import schema_for, tenant_roles, validate_client_id


class TenantConflict(ValueError):
    """Another client id already maps to the same schema."""


@dataclasses.dataclass
class Tenant:
    client_id: str
    schema: str
    created: bool


def create_tenant(
    client_id: str, url: str | None = None, *, schedule: bool = True, revision: str = "head"
) -> Tenant:
    """Provision a tenant; a no-op (but for bringing it to head) when it exists.

    The control schema is brought to head first (its own transaction). Then
    two transactions: the registry row, the roles and the empty schema,
    committed; then the tables and code, created as the tenant's owner. On a
    Citus coordinator the owner's statements reach the workers over the
    owner's own connections, which only see committed roles and schemas
    (docs/scale-out.md); plain PostgreSQL takes the same path. A new tenant
    whose second step fails is dropped again, so a failed create leaves
    nothing behind; an existing tenant stays whole at its old revision.

    The database's dispatcher jobs are scheduled after the second step
    commits, never before: pg_cron 1.4 loses a job change its launcher has
    not read yet when a large catalog change such as this one commits on top
    of it, and the jobs then never start (docs/scheduling.md). If scheduling
    fails the tenant stays, and `pyloader migrate` schedules the jobs.

    `schedule=False` leaves out the pg_cron jobs, for tests that must not see
    the scheduler process their queue behind their back; `revision` stops the
    tenant's migrations early, for tests of upgrades.
    """
    validate_client_id(client_id)
    migrate.migrate_control(url)
    eng = migrate.engine(url)
    with eng.connect() as sa_conn, sa_conn.begin():
        tenant = register(sa_conn.connection.driver_connection, client_id)
    try:
        with eng.connect() as sa_conn, sa_conn.begin():
            raw = sa_conn.connection.driver_connection
            raw.execute(queries.LOCK_TENANT_MIGRATION, {"schema": tenant.schema})
            migrate.upgrade_tenant(sa_conn, tenant.schema, revision)
    except Exception:
        if tenant.created:
            drop_tenant(client_id, url)
        raise
    if schedule:
        from pyloader import scheduler

        scheduler.schedule_database(url)
    return tenant


def register(raw, client_id: str) -> Tenant:
    """The tenant's registry row, roles and empty schema, in the caller's transaction (`raw`: psycopg)."""
    schema = schema_for(client_id)
    raw.execute(queries.LOCK_TENANTS)
    owner = raw.execute(queries.TENANT_BY_SCHEMA, {"schema": schema}).fetchone()
    if owner is not None and owner[0] != client_id:
        raise TenantConflict(
            f"client id {client_id!r} maps to schema {schema!r}, which tenant {owner[0]!r} already has"
        )
    created = owner is None
    if created:
        if raw.execute(queries.SCHEMA_EXISTS, {"schema": schema}).fetchone()[0]:
            raise TenantConflict(f"schema {schema!r} exists but belongs to no registered tenant")
        taken = [r[0] for r in raw.execute(queries.TENANT_ROLE_COLLISIONS, {"schema": schema})]
        if taken:
            raise TenantConflict(
                f"client id {client_id!r} needs roles {', '.join(taken)}, which exist and belong to "
                "something else (another tenant's roles, or roles made outside masterfile)"
            )
        raw.execute(queries.ENSURE_TENANT_ROLES, {"schema": schema, "adopt": False})
        for statement in queries.create_tenant_schema(schema, tenant_roles(schema)["owner"]):
            raw.execute(statement)
        raw.execute(queries.REGISTER_TENANT, {"client_id": client_id, "schema": schema})
    return Tenant(client_id, schema, created)


class NotCitus(RuntimeError):
    """The database is not a Citus coordinator."""


def distribute_tenant(client_id: str, url: str | None = None) -> dict:
    """Make an existing tenant a Citus distributed schema (docs/scale-out.md).

    Citus refuses to distribute tables with triggers, and its copy of the
    data would fire them on shards whose target tables do not exist yet. So,
    under the tenant's migration lock, one transaction drops the triggers and
    distributes the schema, and a second applies the tenant's code (triggers
    included) again: the owner's statements reach the new shards only once
    they are committed. A write between the two marks nothing, so the
    tenant's loads and UI are stopped meanwhile (docs/scale-out.md). A
    tenant that is distributed already is left alone.
    """
    validate_client_id(client_id)
    schema = schema_for(client_id)
    eng = migrate.engine(url)
    with eng.connect() as sa_conn, sa_conn.begin():
        raw = sa_conn.connection.driver_connection
        db.tenant_schema(raw, client_id)
        if not raw.execute(queries.CITUS_INSTALLED).fetchone()[0]:
            raise NotCitus("this database is not a Citus coordinator: CREATE EXTENSION citus first")
        if raw.execute(queries.SCHEMA_DISTRIBUTED, {"schema": schema}).fetchone()[0]:
            return {"client_id": client_id, "schema": schema, "distributed": False}
        raw.execute(queries.LOCK_TENANT_MIGRATION, {"schema": schema})
        for (statement,) in raw.execute(queries.TENANT_TRIGGER_DROPS, {"schema": schema}).fetchall():
            raw.execute(statement)
        raw.execute(queries.DISTRIBUTE_SCHEMA, {"schema": schema})
    with eng.connect() as sa_conn, sa_conn.begin():
        raw = sa_conn.connection.driver_connection
        raw.execute(queries.LOCK_TENANT_MIGRATION, {"schema": schema})
        migrate.upgrade_tenant(sa_conn, schema)
    return {"client_id": client_id, "schema": schema, "distributed": True}


def set_enabled(client_id: str, enabled: bool, url: str | None = None) -> str:
    """Stop or resume a tenant's scheduling; its data and its queue stay."""
    validate_client_id(client_id)
    with db.connect(url, autocommit=True) as conn:
        schema = db.tenant_schema(conn, client_id)
        conn.execute(queries.SET_TENANT_ENABLED, {"client_id": client_id, "enabled": enabled})
    return schema


def drop_tenant(client_id: str, url: str | None = None) -> dict:
    """Drop a tenant in one transaction: schema, registry row, hints, roles.

    Roles are cluster-wide: a role that still holds privileges in another
    database (the same client id there) is kept, and named in the result.
    """
    validate_client_id(client_id)
    schema = schema_for(client_id)
    roles = tenant_roles(schema)
    with db.connect(url) as conn:
        with conn.transaction():
            conn.execute(queries.LOCK_TENANTS)
            db.tenant_schema(conn, client_id)
            conn.execute(queries.drop_tenant_schema(schema))
            conn.execute(queries.UNREGISTER_TENANT, {"client_id": client_id, "schema": schema})
            dropped, kept = [], []
            for role in roles.values():
                if not conn.execute(queries.ROLE_EXISTS, {"role": role}).fetchone()[0]:
                    continue
                conn.execute(queries.drop_owned_by(role))
                if conn.execute(queries.ROLE_USED_ELSEWHERE, {"role": role}).fetchone()[0]:
                    kept.append(role)
                else:
                    dropped.append(role)
            for role in dropped:
                conn.execute(queries.drop_role(role))
    return {"client_id": client_id, "schema": schema, "roles_dropped": dropped, "roles_kept": kept}


def list_tenants(url: str | None = None) -> list[dict]:
    """Every tenant with its schema, revision, queue depth and last run.

    One statement per 200 tenants (each tenant's summary is a branch of a
    UNION ALL), so a thousand tenants cost a handful of round trips.
    """
    out = []
    with db.connect(url) as conn:
        if not db.control_schema_exists(conn):
            raise db.DatabaseUnavailable(db.NO_CONTROL_SCHEMA)
        registry = conn.execute(queries.LIST_TENANTS_ENABLED).fetchall()
        summaries = {}
        for i in range(0, len(registry), 200):
            chunk = [r[1] for r in registry[i:i + 200]]
            for row in conn.execute(queries.tenant_summaries(chunk)).fetchall():
                summaries[row[0]] = row[1:]
        for client_id, schema, created_at, enabled in registry:
            revision, depth, oldest, last_run = summaries[schema]
            out.append(
                {
                    "client_id": client_id,
                    "schema": schema,
                    "enabled": enabled,
                    "revision": revision,
                    "queue_depth": depth,
                    "oldest_dirty_at": _iso(oldest),
                    "last_run": last_run,
                    "created_at": _iso(created_at),
                }
            )
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
