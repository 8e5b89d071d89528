"""The one module that owns database connections.

Two kinds of session exist, and they never mix:

- the operator's (connect()): DATABASE_URL as given (a superuser on the
  project-local cluster), for migrations, tenant provisioning and pg_cron
  jobs; no tenant code runs in it, and only migrations switch in it, to a
  tenant's owner role (as_owner(), for one transaction);
- a tenant's: a login as the authenticator role (`masterfile_app`: LOGIN,
  NOINHERIT, owns nothing, a member of every tenant's reader, loader, ui and
  pipeline roles) that switches to one of them. Such a session can never
  become a superuser again: RESET ROLE only returns to the authenticator,
  which has no privilege of its own.

There is one way into a tenant: tenant_session(client_id, kind) checks the
registry and switches with enter_tenant(), the one role switch (SET ROLE and
the tenant's search_path; SET LOCAL for one transaction of a pooled
connection, as the API and /metrics use it; as text for the export's Arrow
session). The statements are named in queries.sql.

Each command opens its sessions here, once: load, run, export, migrate,
tenant create and drop, the worker, the scheduler, the API's pool and
/metrics. Every function below them that writes takes the caller's
connection (migrate.upgrade_tenant, tenants.provision, tokens.create, the
loader's batches on its session), so calls compose in one transaction. This
module only opens connections, switches roles and classifies connection errors.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyloader import queries
from pyloader.errors import describe
from pyloader.config import (
    app_role, database_url, local_cluster_port, schema_for, tenant_roles,
)


NO_CONTROL_SCHEMA = "this database has no masterfile control schema: run `pyloader migrate` first"


class DatabaseUnavailable(RuntimeError):
    """The database named by DATABASE_URL cannot be reached."""


class UnknownTenant(LookupError):
    """A client id that has no tenant in the registry."""


def with_database(url: str, dbname: str) -> str:
    """`url` pointing at another database of the same server."""
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def scratch_database(name: str, url: str | None = None) -> str:
    """A new, empty database `name` on the server of `url` (DATABASE_URL); its URL."""
    url = url or database_url()
    drop_database(name, url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.create_database(name))
    return with_database(url, name)


def drop_database(name: str, url: str | None = None) -> None:
    with psycopg.connect(url or database_url(), autocommit=True) as conn:
        conn.execute(queries.drop_database(name))


def app_conninfo(url: str | None = None) -> str:
    """The authenticator's connection string for the database of `url`.

    MASTERFILE_APP_URL wins when set; otherwise `url` (DATABASE_URL) with its
    user replaced by the authenticator role and its password dropped (libpq
    then takes MASTERFILE_APP_PASSWORD, PGPASSWORD or ~/.pgpass).
    """
    explicit = os.environ.get("MASTERFILE_APP_URL")
    params = conninfo_to_dict(url or database_url())
    if explicit:
        app = conninfo_to_dict(explicit)
        app.setdefault("dbname", params.get("dbname"))
        if url:  # a caller's database (a test clone) wins over the URL's
            app["dbname"] = params.get("dbname", app.get("dbname"))
        return make_conninfo(**app)
    params["user"] = app_role()
    params.pop("password", None)
    if os.environ.get("MASTERFILE_APP_PASSWORD"):
        params["password"] = os.environ["MASTERFILE_APP_PASSWORD"]
    return make_conninfo(**params)


def connect(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    """The operator's session: DATABASE_URL (or `url`) as given.

    Tenant code never runs in it; a tenant session is tenant_session()'s.
    """
    target = url or database_url()
    try:
        conn = psycopg.connect(target, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(connection_error(target, exc)) from exc
    except psycopg.ProgrammingError as exc:  # a conninfo that does not parse
        raise DatabaseUnavailable(f"DATABASE_URL does not parse: {describe(exc)}") from exc
    return conn


def open_app(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    """A session as the authenticator, in no tenant yet (enter_tenant() next)."""
    target = app_conninfo(url)
    try:
        return psycopg.connect(target, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(connection_error(target, exc)) from exc


def enter_tenant(conn: psycopg.Connection, schema: str, kind: str, *, local: bool = False) -> None:
    """Switch `conn` to one of the tenant's roles and its schema: the one role switch.

    `local`: only for the current transaction (SET LOCAL), as a pooled
    connection shared by many tenants needs; the role is the tenant's
    (reader, loader, ui or pipeline), never its owner (as_owner()).
    """
    if kind == "owner":
        raise ValueError("tenant sessions never run as the owner role")
    _switch(conn, schema, tenant_roles(schema)[kind], local)


def as_owner(conn: psycopg.Connection, schema: str) -> None:
    """The operator's transaction as the tenant's owner role, until leave_tenant() or its end.

    Only migrations run as the owner (migrate.upgrade_tenant): the objects
    they create belong to it.
    """
    _switch(conn, schema, tenant_roles(schema)["owner"], True)


def leave_tenant(conn: psycopg.Connection) -> None:
    """Back to the session's own role and search_path."""
    for statement in queries.LEAVE_TENANT:
        conn.execute(statement)


def tenant_statements(schema: str, kind: str) -> list[str]:
    """enter_tenant's statements as text, for a session that is not psycopg's (the export's Arrow driver)."""
    if kind == "owner":
        raise ValueError("tenant sessions never run as the owner role")
    return [queries.enter_tenant(schema, tenant_roles(schema)[kind]).as_string(None)]


def _switch(conn: psycopg.Connection, schema: str, role: str, local: bool) -> None:
    conn.execute(queries.enter_tenant(schema, role, local=local))


@contextlib.contextmanager
def tenant_session(client_id: str, kind: str, url: str | None = None, *,
                   autocommit: bool = True) -> Iterator[tuple[psycopg.Connection, str]]:
    """The one way into a tenant: (connection, schema) under one of its roles.

    The registry is read as the authenticator, so an unknown tenant is
    refused before any tenant object is touched.
    """
    conn = open_app(url, autocommit=True)
    try:
        schema = tenant_schema(conn, client_id)
        enter_tenant(conn, schema, kind)
        conn.autocommit = autocommit
        yield conn, schema
    finally:
        conn.close()


def connection_error(target: str, exc: BaseException) -> str:
    """What failed, named: host, port, role and database, and the likely fix."""
    info = conninfo_to_dict(target)
    where = (f"{info.get('user', '?')}@{info.get('host', 'localhost')}:{info.get('port', '5432')}"
             f"/{info.get('dbname', '?')}")
    first = describe(exc)
    low = first.lower()
    if "role" in low and "does not exist" in low:
        hint = "the role does not exist: run `pyloader migrate`, which creates the authenticator role"
    elif "database" in low and "does not exist" in low:
        hint = "the database does not exist: create it, or point DATABASE_URL at another"
    elif "password" in low or "authentication" in low:
        hint = "the server refused the credentials: check the password (MASTERFILE_APP_PASSWORD, PGPASSWORD)"
    elif _is_local_cluster(info):
        hint = "start the project-local cluster with `make db`"
    else:
        hint = "check that the server is running and DATABASE_URL names it"
    return f"cannot connect to {where}: {first}; {hint}"


def _is_local_cluster(info: dict) -> bool:
    return info.get("host") in ("127.0.0.1", "localhost") and str(info.get("port")) == str(local_cluster_port())


def tenant_schema(conn: psycopg.Connection, client_id: str) -> str:
    """The schema of a registered tenant; UnknownTenant when there is none."""
    schema = schema_for(client_id)
    try:
        row = conn.execute(queries.TENANT_BY_CLIENT_ID, {"client_id": client_id}).fetchone()
    except psycopg.errors.UndefinedTable as exc:
        raise DatabaseUnavailable(NO_CONTROL_SCHEMA) from exc
    if row is None:
        raise UnknownTenant(f"unknown tenant {client_id!r} (create it with `pyloader tenant create {client_id}`)")
    if row[0] != schema:  # the registry is the authority; this only guards a corrupted registry
        raise UnknownTenant(f"tenant {client_id!r} is registered with schema {row[0]!r}, expected {schema!r}")
    return schema


def control_schema_exists(conn: psycopg.Connection) -> bool:
    return conn.execute(queries.CONTROL_SCHEMA_EXISTS).fetchone()[0]
