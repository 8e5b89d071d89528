"""Tables migrate, functions reload.

Alembic (migrations/) owns what runs once; sql/ owns what is safe to re-run and
is re-applied in full after every upgrade. The control schema and each tenant
are upgraded in a transaction of their own: a tenant whose upgrade fails stays
whole at its old revision and is named in the result; the others go on.
"""
from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from pyloader import plpython, queries
from pyloader.config import database_url, tenant_roles

# package data (pyloader/migrations and pyloader/sql link to the repository's
# folders): the same files in a checkout, an editable install and a wheel.
# Alembic reads its scripts from a directory, so the package must be installed
# as files (pip does), not run from a zip.
PACKAGE_DATA = Path(str(resources.files("pyloader")))
MIGRATIONS = PACKAGE_DATA / "migrations"
SQL_DIR = PACKAGE_DATA / "sql"


@dataclasses.dataclass
class TenantResult:
    schema: str
    ok: bool
    revision: str | None
    error: str | None = None


def engine(url: str | None = None):
    """A SQLAlchemy engine (psycopg 3 driver) for Alembic; no pool to leak."""
    # a creator takes any libpq string (URI or key=value), as DATABASE_URL may be
    dsn = url or database_url()
    return create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn), poolclass=NullPool)


def _alembic_config(kind: str, connection, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS / kind))
    cfg.attributes["connection"] = connection
    cfg.attributes["schema"] = schema
    return cfg


def head_revision(kind: str) -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS / kind))
    return ScriptDirectory.from_config(cfg).get_current_head()


def sql_files(kind: str) -> list[Path]:
    """The re-runnable files of sql/<kind>/, in name order."""
    return sorted((SQL_DIR / kind).glob("*.sql"))


def apply_sql(conn: psycopg.Connection, kind: str) -> None:
    """Run every file of sql/<kind>/ on `conn`, in the caller's transaction."""
    for path in sql_files(kind):
        try:
            conn.execute(path.read_text())
        except psycopg.Error as exc:
            raise RuntimeError(f"sql/{kind}/{path.name}: {exc}".strip()) from exc


def upgrade_control(sa_conn) -> None:
    """Bring the control schema to head and reload its code (caller's transaction)."""
    raw = sa_conn.connection.driver_connection
    raw.execute("CREATE SCHEMA IF NOT EXISTS masterfile")
    raw.execute("SET LOCAL search_path = masterfile, pg_catalog")
    command.upgrade(_alembic_config("control", sa_conn, queries.CONTROL_SCHEMA), "head")
    apply_sql(raw, "control")
    plpython.install(raw)  # kernels embed pyloader/kernels/ as read now
    raw.execute("RESET search_path")


def upgrade_tenant(sa_conn, schema: str, target: str = "head") -> None:
    """Bring one tenant schema to head and reload its code, as its owner role.

    Runs in the caller's transaction: nothing is committed here, so a failure
    leaves the tenant exactly as it was.
    """
    raw = sa_conn.connection.driver_connection
    # roles and their grants on the shared kernels may have grown since the
    # tenant was created
    raw.execute("SELECT masterfile.ensure_tenant_roles(%s)", (schema,))
    raw.execute(
        sql.SQL("SET LOCAL ROLE {}; SET LOCAL search_path = {}, pg_catalog").format(
            sql.Identifier(tenant_roles(schema)["owner"]), sql.Identifier(schema)
        )
    )
    command.upgrade(_alembic_config("tenant", sa_conn, schema), target)
    # sql/ is written against the tables at head; an intermediate revision
    # (only tests stop there) gets its code when it reaches head
    if target == "head" or target == head_revision("tenant"):
        apply_sql(raw, "tenant")
    raw.execute("RESET ROLE; RESET search_path")


def migrate_control(url: str | None = None) -> None:
    with engine(url).connect() as sa_conn, sa_conn.begin():
        # one migrator at a time; a second waits instead of racing on DDL
        sa_conn.connection.driver_connection.execute("SELECT pg_advisory_xact_lock(hashtext('masterfile.migrate'))")
        upgrade_control(sa_conn)


def migrate_all(url: str | None = None) -> list[TenantResult]:
    """Control schema first, then every registered tenant, each on its own."""
    migrate_control(url)
    eng = engine(url)
    with eng.connect() as sa_conn:
        schemas = [r[1] for r in sa_conn.connection.driver_connection.execute(queries.LIST_TENANTS)]
        sa_conn.rollback()
    return [migrate_tenant(eng, schema) for schema in schemas]


def migrate_tenant(eng, schema: str) -> TenantResult:
    with eng.connect() as sa_conn:
        try:
            with sa_conn.begin():
                raw = sa_conn.connection.driver_connection
                raw.execute("SELECT pg_advisory_xact_lock(hashtext('masterfile.migrate.' || %s))", (schema,))
                upgrade_tenant(sa_conn, schema)
        except Exception as exc:  # reported per tenant; the others go on
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return TenantResult(schema, False, current_revision(sa_conn, schema), msg)
        return TenantResult(schema, True, current_revision(sa_conn, schema))


def current_revision(sa_conn, schema: str) -> str | None:
    raw = sa_conn.connection.driver_connection
    try:
        row = raw.execute(queries.tenant_revision(schema)).fetchone()
    except psycopg.Error:
        raw.rollback()
        return None
    raw.rollback()
    return row[0] if row else None


def run_env() -> None:
    """The body of both Alembic env.py files: run on the caller's connection.

    upgrade_control/upgrade_tenant open the transaction, set search_path and
    role, and pass the connection in `config.attributes`; Alembic only needs
    to know where the version table lives. Offline (SQL script) mode is not used.
    """
    from alembic import context

    config = context.config
    context.configure(
        connection=config.attributes["connection"],
        version_table_schema=config.attributes["schema"],
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
