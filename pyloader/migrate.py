"""Tables migrate, functions reload.

Alembic (migrations/) owns what runs once; sql/ owns what is safe to re-run and
is re-applied in full after every upgrade. The control schema and each tenant
are upgraded in a transaction of their own: a tenant whose upgrade fails stays
whole at its old revision and is named in the result; the others go on.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
from importlib import resources
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import create_engine, event
from sqlalchemy.pool import NullPool

from pyloader import db, features, plpython, queries
from pyloader.errors import describe

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
    """A SQLAlchemy engine (psycopg 3 driver) for Alembic; no pool to leak.

    A migration's script (`op.execute` of several statements) reaches the
    server one statement at a time, as everything the migration path sends
    (queries.split_statements says why).
    """
    # a creator takes any libpq string (URI or key=value), as DATABASE_URL may be
    eng = create_engine("postgresql+psycopg://", creator=lambda: db.connect(url), poolclass=NullPool)
    event.listen(eng, "do_execute_no_params", _one_statement_at_a_time)
    event.listen(eng, "do_execute", lambda cursor, statement, params, context:
                 None if params else _one_statement_at_a_time(cursor, statement, context))
    return eng


def _one_statement_at_a_time(cursor, statement, context) -> bool | None:
    parts = queries.split_statements(statement)
    if len(parts) < 2:
        return None  # SQLAlchemy executes it as usual
    for part in parts:
        cursor.execute(part)
    return True


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


# sql/tenant/ names its schema as pgspot and PostgreSQL extension scripts do:
# every function pins `SET search_path = @extschema@, pg_catalog, pg_temp`
# (written out: FROM CURRENT would leave pg_temp first for tables)
SCHEMA_PLACEHOLDER = "@extschema@"


def sql_text(path: Path, schema: str | None = None) -> str:
    """A file of sql/, with the tenant's schema in place of @extschema@ ('@extschema@': its name),
    the declared features' lists in place of `@features TEMPLATE@` (pyloader/features.py)
    and the PL/Python kernels' loaders in place of their `@kernel NAME@` lines (pyloader/plpython.py)."""
    text = path.read_text()
    if schema is not None:
        # '@extschema@' in quotes is the schema's name as a value
        text = text.replace(f"'{SCHEMA_PLACEHOLDER}'", sql.Literal(schema).as_string(None))
        text = text.replace(SCHEMA_PLACEHOLDER, sql.Identifier(schema).as_string(None))
    elif SCHEMA_PLACEHOLDER in text:
        raise RuntimeError(f"{path.relative_to(PACKAGE_DATA)} names {SCHEMA_PLACEHOLDER} but no schema was given")
    text = features.expand(text)
    # last: a kernel's source is embedded as it is
    return plpython.embed_kernels(text)


def apply_sql(conn: psycopg.Connection, kind: str, schema: str | None = None) -> None:
    """Run every file of sql/<kind>/ on `conn`, statement by statement, in the caller's transaction.

    The files run with pg_catalog first and pg_temp last on the search path,
    as every function they create pins it (tests/pgspot/ states the same for
    the checker); objects they create are named with their schema.
    """
    conn.execute(queries.sql_search_path(schema if schema is not None else queries.CONTROL_SCHEMA))
    for path in sql_files(kind):
        try:
            for statement in queries.split_statements(sql_text(path, schema)):
                conn.execute(statement)
        except psycopg.Error as exc:
            raise RuntimeError(f"{path.relative_to(PACKAGE_DATA)}: {exc}".strip()) from exc


def upgrade_control(sa_conn) -> None:
    """Bring the control schema to head and reload its code (caller's transaction)."""
    raw = sa_conn.connection.driver_connection
    for statement in queries.CREATE_CONTROL_SCHEMA:
        raw.execute(statement)
    command.upgrade(_alembic_config("control", sa_conn, queries.CONTROL_SCHEMA), "head")
    apply_sql(raw, "control")  # kernels embed pyloader/kernels/ as read now
    raw.execute(queries.RESET_SEARCH_PATH)


@functools.cache
def code_version() -> str:
    """A digest of everything a tenant upgrade applies: the migrations, sql/ and the kernels' source."""
    digest = hashlib.sha256()
    paths = sorted((MIGRATIONS / "tenant" / "versions").glob("*.py")) + sql_files("control") + sql_files("tenant")
    paths += sorted((PACKAGE_DATA / "kernels").glob("*.py")) + [Path(plpython.__file__), Path(features.__file__)]
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def check_feature_columns(conn: psycopg.Connection, schema: str) -> None:
    """Refuse to reload a tenant whose features table is not the declaration's
    (sql/control/015_features_declared.sql), naming the migration to write."""
    columns = dict(conn.execute(queries.FEATURE_COLUMNS, {"schema": schema}).fetchall())
    problem = features.disagreement(columns)
    if problem is not None:
        raise RuntimeError(f"{schema}: {problem}")


def upgrade_tenant(sa_conn, schema: str, target: str = "head") -> None:
    """Bring one tenant schema to head and reload its code, as its owner role.

    Runs in the caller's transaction: nothing is committed here, so a failure
    leaves the tenant exactly as it was.
    """
    raw = sa_conn.connection.driver_connection
    # roles and their grants on the shared kernels may have grown since the
    # tenant was created
    # (a registered tenant's roles made before they carried their marker are adopted)
    raw.execute(queries.ENSURE_TENANT_ROLES, {"schema": schema, "adopt": True})
    db.as_owner(raw, schema)
    command.upgrade(_alembic_config("tenant", sa_conn, schema), target)
    # sql/ is written against the tables at head; an intermediate revision
    # (only tests stop there) gets its code when it reaches head
    if target == "head" or target == head_revision("tenant"):
        check_feature_columns(raw, schema)
        apply_sql(raw, "tenant", schema)
        # marks queued before the tenant had hints (or while a hint was lost):
        # asked, then hinted, in two statements (Citus: docs/scale-out.md)
        if raw.execute(queries.has_queued_work(schema)).fetchone()[0]:
            raw.execute(queries.hint_work(schema))
    db.leave_tenant(raw)
    if target == "head" or target == head_revision("tenant"):
        raw.execute(queries.SET_CODE_VERSION, {"schema": schema, "version": code_version()})


@functools.cache
def control_code_version() -> str:
    """A digest of what a control upgrade applies: its migrations, sql/control and the kernels' source."""
    digest = hashlib.sha256()
    paths = sorted((MIGRATIONS / "control" / "versions").glob("*.py")) + sql_files("control")
    paths += sorted((PACKAGE_DATA / "kernels").glob("*.py")) + [Path(plpython.__file__), Path(features.__file__)]
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def migrate_control(url: str | None = None, *, reload: bool = False) -> None:
    """The control schema to head, its code reloaded; nothing at all when it is at this code already."""
    if not reload:
        with db.connect(url, autocommit=True) as conn:
            if conn.execute(queries.HAS_INSTALLED_TABLE).fetchone()[0]:
                row = conn.execute(queries.CONTROL_CODE_VERSION).fetchone()
                if row is not None and row[0] == control_code_version():
                    return
    with engine(url).connect() as sa_conn, sa_conn.begin():
        raw = sa_conn.connection.driver_connection
        # one migrator at a time; a second waits instead of racing on DDL
        raw.execute(queries.LOCK_MIGRATIONS)
        upgrade_control(sa_conn)
        raw.execute(queries.SET_CONTROL_CODE_VERSION, {"version": control_code_version()})


def migrate_all(url: str | None = None, *, client_id: str | None = None, reload: bool = False) -> list[TenantResult]:
    """Control schema first, then every registered tenant (or one), each on its own.

    A tenant already upgraded to this very code (tenants.code_version) is
    left alone, unless `reload`: a no-op migrate of many tenants is one query.
    """
    migrate_control(url, reload=reload)
    eng = engine(url)
    head = head_revision("tenant")
    with eng.connect() as sa_conn:
        raw = sa_conn.connection.driver_connection
        rows = raw.execute(queries.TENANT_CODE_VERSIONS).fetchall()
        if client_id is not None:
            schema = db.tenant_schema(raw, client_id)
            rows = [r for r in rows if r[0] == schema]
        sa_conn.rollback()
    current = code_version()
    return [TenantResult(schema, True, head) if version == current and not reload else migrate_tenant(eng, schema)
            for schema, version in rows]


def migrate_tenant(eng, schema: str) -> TenantResult:
    with eng.connect() as sa_conn:
        try:
            with sa_conn.begin():
                raw = sa_conn.connection.driver_connection
                raw.execute(queries.LOCK_TENANT_MIGRATION, {"schema": schema})
                upgrade_tenant(sa_conn, schema)
        except Exception as exc:  # reported per tenant; the others go on
            return TenantResult(schema, False, current_revision(sa_conn, schema), describe(exc))
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
