"""Test fixtures: a real PostgreSQL 15 (the project-local cluster), one
template database per test session with the control schema migrated, and a
fresh clone of it for every test that commits.

With MASTERFILE_CITUS=1 (`make test-citus`) DATABASE_URL is a Citus
coordinator: every test database is made on the coordinator and on each of
its workers (a Citus cluster is per database), the session template has
Citus in it and knows the workers, and each clone has schema-based sharding
on, so tenants created in it are distributed schemas
(MASTERFILE_CITUS_SHARDING=off keeps them on the coordinator).
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys
import time

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyloader import db, migrate, scheduler, tenants
from pyloader.config import database_url

_counter = itertools.count()

CITUS = os.environ.get("MASTERFILE_CITUS") == "1"
CITUS_SHARDING = os.environ.get("MASTERFILE_CITUS_SHARDING", "on") != "off"


def url_for(dbname: str, base: str | None = None) -> str:
    return db.with_database(base or database_url(), dbname)


def admin() -> psycopg.Connection:
    return psycopg.connect(database_url(), autocommit=True)


def citus_workers() -> list[str]:
    """The workers' URLs (the coordinator's database), as the coordinator at DATABASE_URL lists them; none off Citus."""
    if not CITUS:
        return []
    with admin() as conn:
        rows = conn.execute("SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary'"
                            " AND isactive ORDER BY nodeid").fetchall()
    params = conninfo_to_dict(database_url())
    return [make_conninfo(**{**params, "host": host, "port": str(port)}) for host, port in rows]


def _create_on(server: str, name: str, template: str | None) -> None:
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(server, autocommit=True) as conn:
        for attempt in range(20):
            if template and CITUS:
                # Citus keeps sessions in every database that has it (its
                # maintenance daemon, the nodes' cached connections); a
                # template must have none while it is copied
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                             " WHERE datname = %s AND pid <> pg_backend_pid()", (template,))
            try:
                conn.execute(query)
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 19:
                    raise
                time.sleep(0.1)


def create_database(name: str, template: str | None = None) -> None:
    """CREATE DATABASE `name` (a copy of `template`), on every Citus node when on Citus."""
    for server in [database_url(), *citus_workers()]:
        _create_on(server, name, template)


def drop_database(name: str) -> None:
    scheduler.unschedule_database(name)  # else its jobs fire every minute at nothing
    for worker in citus_workers():
        db.drop_database(name, worker)
    db.drop_database(name)


def _citus_template(name: str) -> None:
    """Citus in `name` on every node, the coordinator knowing itself and its workers."""
    params = conninfo_to_dict(database_url())
    for server in [database_url(), *citus_workers()]:
        with psycopg.connect(url_for(name, server), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
    with psycopg.connect(url_for(name), autocommit=True) as conn:
        conn.execute("SELECT citus_set_coordinator_host(%s, %s)",
                     (params.get("host", "127.0.0.1"), int(params.get("port", 5432))))
        for worker in citus_workers():
            w = conninfo_to_dict(worker)
            conn.execute("SELECT citus_add_node(%s, %s)", (w["host"], int(w["port"])))


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
    create_database(name)
    if CITUS:
        _citus_template(name)
    migrate.migrate_control(url_for(name))
    yield name
    drop_database(name)


@pytest.fixture
def db_url(template_db):
    """A fresh database for one test, cloned from the session template."""
    name = f"mf_t_{os.getpid()}_{next(_counter)}"
    create_database(name, template_db)
    if CITUS and CITUS_SHARDING:
        # a database setting is not copied with the template; the control
        # schema was made before, so it stays a local schema on the coordinator
        with admin() as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} SET citus.enable_schema_based_sharding = on").format(
                sql.Identifier(name)))
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


def cron_evidence(url: str, schema: str) -> str:
    """What to read when a test waiting on the real pg_cron times out: the
    database's jobs, the launcher and the jobs' sessions, the tenant's runs,
    hints and queue, and the cluster log's last pg_cron lines (the project
    cluster logs each job's start and end: scripts/cluster.sh)."""
    database = conninfo_to_dict(url)["dbname"]
    out = [f"now: {time.strftime('%H:%M:%S')}"]
    cron, _ = scheduler.cron_connection(url)
    with cron:
        out += [f"job: {r}" for r in cron.execute(
            "SELECT jobid, jobname, schedule, active, username FROM cron.job WHERE database = %s", (database,))]
        out.append(f"jobs in the cluster: {scalar(cron, 'SELECT count(*) FROM cron.job')}")
        out += [f"session: {r}" for r in cron.execute(
            "SELECT pid, datname, usename, application_name, state, wait_event, now() - query_start, left(query, 80)"
            " FROM pg_stat_activity WHERE application_name IN ('pg_cron', 'pg_cron scheduler')")]
    with psycopg.connect(url) as conn:
        out += [f"hint: {r}" for r in conn.execute(
            "SELECT hint_id, schema_name, not_before, now() FROM masterfile.work_hints")]
        out += [f"run: {r}" for r in conn.execute(sql.SQL(
            "SELECT run_id, trigger, status, started_at, finished_at, keys_done FROM {}.runs ORDER BY run_id")
            .format(sql.Identifier(schema)))]
        out += [f"mark: {r}" for r in conn.execute(sql.SQL(
            "SELECT mark_id, product_id, location_id, from_week, scope, marked_at FROM {}._private_dirty_keys")
            .format(sql.Identifier(schema)))]
    log = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".pg", "postgresql.log")
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            lines = [line.rstrip() for line in f if "cron" in line or "dispatch" in line]
        out += ["log: " + line for line in lines[-40:]]
    return "\n".join(out)


def wait_for_cron(done, url: str, schema: str, seconds: float = 200) -> None:
    """Wait for `done()` while pg_cron's minute ticks come (three at least
    in the default), or fail with cron_evidence."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"pg_cron did not get it done in {seconds:.0f} s:\n{cron_evidence(url, schema)}")
        time.sleep(1)
