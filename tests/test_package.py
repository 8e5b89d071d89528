"""A wheel is the whole program: built from this checkout, installed into a
fresh virtual environment (its dependencies from the package index, nothing
of the checkout on its path), it migrates a database nobody migrated and
creates a tenant, reading migrations/ and sql/ from its own package data."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import psycopg
from psycopg import sql

from tests.conftest import admin, drop_database, scalar, url_for

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_a_wheel_in_a_fresh_venv_migrates_and_creates_a_tenant(tmp_path):
    wheels, venv, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "cwd"
    elsewhere.mkdir()
    # setuptools builds in the checkout's build/ and never empties it: a file
    # deleted from sql/ would still ship in the wheel
    shutil.rmtree(REPO / "build", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(wheels), str(REPO)], check=True, capture_output=True, cwd=elsewhere)
    (wheel,) = wheels.glob("masterfile-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True)

    name = f"mf_pkg_{os.getpid()}"
    with admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = url_for(name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["DATABASE_URL"] = url

    def installed(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "pyloader"), *args], capture_output=True, text=True,
                              env=env, cwd=elsewhere, timeout=300)

    try:
        where = subprocess.run(
            [str(venv / "bin" / "python"), "-c",
             "import json, pyloader, pyloader.migrate as m; print(json.dumps([pyloader.__file__,"
             " str(m.MIGRATIONS), len(m.sql_files('tenant')), m.head_revision('tenant')]))"],
            capture_output=True, text=True, check=True, env=env, cwd=elsewhere).stdout
        module, migrations, n_sql, head = json.loads(where)
        assert module.startswith(str(venv)) and migrations.startswith(str(venv))  # not the checkout's
        assert n_sql == len(list((REPO / "sql" / "tenant").glob("*.sql")))
        assert f"migrations: tenant {head}, control " in installed("--version").stdout
        res = installed("migrate")
        assert res.returncode == 0, res.stderr
        res = installed("tenant", "create", "PKG-1")
        assert res.returncode == 0, res.stderr
        res = installed("tenant", "list", "--json")
        assert res.returncode == 0, res.stderr
        assert [(t["client_id"], t["revision"]) for t in json.loads(res.stdout)["tenants"]] == [("PKG-1", head)]
        with psycopg.connect(url) as conn:
            # the tables of migrations/ and the code of sql/ are both there
            assert scalar(conn, "SELECT count(*) FROM pg_tables WHERE schemaname = 't_pkg_1'") > 10
            assert scalar(conn, "SELECT to_regprocedure('t_pkg_1.apply_retention()') IS NOT NULL")
            assert scalar(conn, "SELECT to_regclass('t_pkg_1.master_file') IS NOT NULL")
    finally:
        drop_database(name)
