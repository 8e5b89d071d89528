"""Runs the pgTAP files of tests/pgtap/ with pg_prove, against a clone that has
the pgtap extension and a tenant `pgtap` (schema t_pgtap). Each file wraps its
assertions in BEGIN ... ROLLBACK, so they share the database harmlessly."""
from __future__ import annotations

import pathlib
import shutil
import subprocess

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

PGTAP_DIR = pathlib.Path(__file__).parent / "pgtap"
FILES = sorted(PGTAP_DIR.glob("*.sql"))


@pytest.fixture
def pgtap_db(make_tenant, db_url):
    make_tenant("pgtap")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
    return db_url


def test_pgtap_files_exist():
    assert FILES, "no pgTAP files in tests/pgtap"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_pgtap(pgtap_db, path):
    assert shutil.which("pg_prove"), "pg_prove is missing (make deps installs libtap-parser-sourcehandler-pgtap-perl)"
    p = conninfo_to_dict(pgtap_db)
    res = subprocess.run(
        ["pg_prove", "--verbose", "-h", p["host"], "-p", str(p["port"]), "-U", p["user"], "-d", p["dbname"], str(path)],
        capture_output=True, text=True, timeout=300,
    )
    print(res.stdout)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "All tests successful" in res.stdout
