"""Test fixtures: a real PostgreSQL 15 (the project-local cluster), one
template database per test session with the control schema migrated, and a
fresh clone of it for every test that commits.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys

import psycopg
import pytest
from psycopg import sql

from pyloader import db, migrate, scheduler, tenants
from pyloader.config import database_url

_counter = itertools.count()


def url_for(dbname: str, base: str | None = None) -> str:
    return db.with_database(base or database_url(), dbname)


def admin() -> psycopg.Connection:
    return psycopg.connect(database_url(), autocommit=True)


def drop_database(name: str) -> None:
    scheduler.unschedule_database(name)  # else its jobs fire every minute at nothing
    db.drop_database(name)


@pytest.fixture(scope="session")
def template_db():
    """A database with the control schema at head, cloned by `db_url`."""
    try:
        with admin():
            pass
    except psycopg.OperationalError as exc:
        pytest.exit(f"no database at DATABASE_URL ({exc}); run `make db` first", returncode=2)
    name = f"mf_tpl_{os.getpid()}"
    drop_database(name)
    with admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    migrate.migrate_control(url_for(name))
    yield name
    drop_database(name)


@pytest.fixture
def db_url(template_db):
    """A fresh database for one test, cloned from the session template."""
    name = f"mf_t_{os.getpid()}_{next(_counter)}"
    with admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db))
        )
    yield url_for(name)
    drop_database(name)


@dataclasses.dataclass
class TenantHandle:
    client_id: str
    schema: str
    url: str

    def role(self, kind: str) -> str:
        return {"reader": self.schema}.get(kind, f"{self.schema}_{kind}")

    def connect(self, role: str | None = None, autocommit: bool = True) -> psycopg.Connection:
        """A connection whose statements run under one of the tenant's roles."""
        conn = psycopg.connect(self.url, autocommit=autocommit)
        conn.execute(sql.SQL("SET search_path = {}, pg_catalog").format(sql.Identifier(self.schema)))
        if role:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.role(role))))
        return conn


@pytest.fixture
def make_tenant(db_url):
    def make(client_id: str = "acme", *, schedule: bool = False) -> TenantHandle:
        t = tenants.create_tenant(client_id, db_url, schedule=schedule)
        return TenantHandle(t.client_id, t.schema, db_url)

    return make


@pytest.fixture
def tenant(make_tenant) -> TenantHandle:
    return make_tenant("acme")


def scalar(conn: psycopg.Connection, query, params=None):
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def row_set(conn: psycopg.Connection, query, params=None) -> set:
    return set(conn.execute(query, params).fetchall())


def pyloader(*args: str, url: str | None = None, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run the real command line, as a user would."""
    e = dict(os.environ)
    if url:
        e["DATABASE_URL"] = url
    e.update(env or {})
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "pyloader"), *args],
        capture_output=True, text=True, env=e, timeout=kw.pop("timeout", 600), **kw,
    )
