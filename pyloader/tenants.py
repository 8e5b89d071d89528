"""Tenant provisioning and listing.

A tenant is one schema, its roles, its tables at head and its scheduled jobs.
Creating one is a single transaction (registry row, roles, schema, tables,
code, grants); creating it again changes nothing.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import psycopg
from psycopg import sql

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

    `schedule=False` leaves out the pg_cron jobs, for tests that must not see
    the scheduler process their queue behind their back; `revision` stops the
    tenant's migrations early, for tests of upgrades.
    """
    validate_client_id(client_id)
    schema = schema_for(client_id)
    roles = tenant_roles(schema)
    migrate.migrate_control(url)
    eng = migrate.engine(url)
    with eng.connect() as sa_conn, sa_conn.begin():
        raw = sa_conn.connection.driver_connection
        raw.execute("SELECT pg_advisory_xact_lock(hashtext('masterfile.tenants'))")
        owner = raw.execute(queries.TENANT_BY_SCHEMA, {"schema": schema}).fetchone()
        if owner is not None and owner[0] != client_id:
            raise TenantConflict(
                f"client id {client_id!r} maps to schema {schema!r}, which tenant {owner[0]!r} already has"
            )
        created = owner is None
        if created:
            if raw.execute(queries.SCHEMA_EXISTS, {"schema": schema}).fetchone()[0]:
                raise TenantConflict(f"schema {schema!r} exists but belongs to no registered tenant")
            raw.execute("SELECT masterfile.ensure_tenant_roles(%s)", (schema,))
            raw.execute(
                sql.SQL(
                    "CREATE SCHEMA {s} AUTHORIZATION {o};"
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {o} REVOKE EXECUTE ON ROUTINES FROM PUBLIC"
                ).format(s=sql.Identifier(schema), o=sql.Identifier(roles["owner"]))
            )
            raw.execute(queries.REGISTER_TENANT, {"client_id": client_id, "schema": schema})
        migrate.upgrade_tenant(sa_conn, schema, revision)
    if schedule:
        from pyloader import scheduler

        scheduler.schedule_tenant(schema, url)
    return Tenant(client_id, schema, created)


def list_tenants(url: str | None = None) -> list[dict]:
    """Every tenant with its schema, revision, queue depth and last run."""
    out = []
    with db.connect(url) as conn:
        if not db.control_schema_exists(conn):
            raise db.DatabaseUnavailable(db.NO_CONTROL_SCHEMA)
        for client_id, schema, created_at in conn.execute(queries.LIST_TENANTS).fetchall():
            revision = conn.execute(queries.tenant_revision(schema)).fetchone()
            depth, oldest, last_run = conn.execute(queries.tenant_summary(schema)).fetchone()
            out.append(
                {
                    "client_id": client_id,
                    "schema": schema,
                    "revision": revision[0] if revision else None,
                    "queue_depth": depth,
                    "oldest_dirty_at": _iso(oldest),
                    "last_run": last_run,
                    "created_at": _iso(created_at),
                }
            )
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
