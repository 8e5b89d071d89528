"""The one module that owns database connections.

Every function that writes takes the caller's connection, so calls compose in
one transaction; this module only opens connections and classifies errors.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from pyloader import queries
from pyloader.config import database_url, schema_for


class DatabaseUnavailable(RuntimeError):
    """The database named by DATABASE_URL cannot be reached."""


class UnknownTenant(LookupError):
    """A client id that has no tenant in the registry."""


def connect(url: str | None = None, *, role: str | None = None, autocommit: bool = False) -> psycopg.Connection:
    """Open a connection; with `role`, every statement runs under that role.

    The role is switched with SET ROLE right after connecting, so permission
    checks are the role's own: a write the role may not do fails in the
    database, not in Python.
    """
    url = url or database_url()
    try:
        conn = psycopg.connect(url, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to the database at DATABASE_URL ({_redact(url)}): {first}; "
            "start the project-local cluster with `make db`"
        ) from exc
    if role:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        if not autocommit:
            conn.commit()
    return conn


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())


def tenant_schema(conn: psycopg.Connection, client_id: str) -> str:
    """The schema of a registered tenant; UnknownTenant when there is none."""
    schema = schema_for(client_id)
    row = conn.execute(queries.TENANT_BY_CLIENT_ID, {"client_id": client_id}).fetchone()
    if row is None:
        raise UnknownTenant(f"unknown tenant {client_id!r} (create it with `pyloader tenant create {client_id}`)")
    if row[0] != schema:  # the registry is the authority; this only guards a corrupted registry
        raise UnknownTenant(f"tenant {client_id!r} is registered with schema {row[0]!r}, expected {schema!r}")
    return schema


def control_schema_exists(conn: psycopg.Connection) -> bool:
    return conn.execute(queries.CONTROL_SCHEMA_EXISTS).fetchone()[0]
