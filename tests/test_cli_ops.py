"""The command line as an operator meets it: --version, a cheap start,
JSON logs, a closed pipe, and a database nobody has migrated."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from psycopg import sql

from tests.conftest import admin, pyloader, url_for

PYLOADER = os.path.join(os.path.dirname(sys.executable), "pyloader")


def test_version_names_the_installed_distribution_and_its_migrations():
    from importlib.metadata import version

    from pyloader import migrate

    res = pyloader("--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == (f"pyloader (masterfile) {version('masterfile')}, migrations: tenant "
                                  f"{migrate.head_revision('tenant')}, control {migrate.head_revision('control')}")


def test_parsing_arguments_imports_no_database_or_numeric_library():
    code = ("import sys; from pyloader import cli; cli.build_parser().parse_args(['status', 'x']);"
            "print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'alembic', 'sqlalchemy', 'psycopg', 'pyarrow', 'numpy', 'prometheus_client'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_closed_pipe_ends_quietly(tenant):
    # the reader is gone before the command writes: `pyloader tenant list | head -0`
    for args in (["tenant", "list"], ["tenant", "list", "--json"], ["status", "acme", "--json"], ["--help"]):
        proc = subprocess.Popen([PYLOADER, *args], env=dict(os.environ, DATABASE_URL=tenant.url),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
        assert (proc.returncode, err) == (0, ""), args


@pytest.fixture
def bare_url():
    """A database with no control schema: `pyloader migrate` never ran in it."""
    name = f"mf_bare_{os.getpid()}"
    with admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield url_for(name)
    with admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.parametrize("args", [
    ["tenant", "list"], ["status", "acme"], ["run", "acme"], ["worker", "--once"], ["worker", "acme", "--once"],
    ["load", "acme", "--api", "http://127.0.0.1:9/"],
])
def test_a_database_without_the_control_schema_says_to_run_migrate(bare_url, args):
    res = pyloader(*args, url=bare_url)
    assert res.returncode == 1
    assert res.stderr == "pyloader: this database has no masterfile control schema: run `pyloader migrate` first\n"


def test_json_logs_are_one_object_per_line_for_failures_too(bare_url):
    res = pyloader("--log-format", "json", "status", "acme", url=bare_url)
    assert res.returncode == 1
    (doc,) = [json.loads(line) for line in res.stderr.splitlines()]
    assert doc["level"] == "error" and doc["logger"] == "pyloader.cli"
    assert "run `pyloader migrate`" in doc["message"] and doc["time"].endswith("+00:00")
    # the option after the command, and from the environment, alike
    res = pyloader("status", "acme", "--log-format", "json", url=bare_url)
    assert json.loads(res.stderr)["level"] == "error"
    res = pyloader("status", "acme", url=bare_url, env={"MASTERFILE_LOG_FORMAT": "json"})
    assert json.loads(res.stderr)["level"] == "error"
    res = pyloader("status", "bad id!", url=bare_url, env={"MASTERFILE_LOG_FORMAT": "json"})
    assert res.returncode == 2 and "client id" in json.loads(res.stderr)["message"]


def test_json_logs_of_a_worker_carry_their_fields(tenant):
    res = pyloader("--log-format", "json", "worker", "--once", url=tenant.url)
    assert res.returncode == 0, res.stderr
    docs = [json.loads(line) for line in res.stderr.splitlines()]
    assert docs and all({"time", "level", "logger", "message"} <= set(d) for d in docs)
    (stopped,) = [d for d in docs if d["message"].startswith("worker: stopped")]
    assert stopped["keys_done"] == 0 and isinstance(stopped["calls"], int)


def test_a_command_stops_on_ctrl_c_even_when_its_parent_ignored_it():
    """An ignored SIGINT is inherited across exec, and Python then installs no
    KeyboardInterrupt handler; the command line installs it anyway."""
    import signal
    import time

    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "pyloader"), "fake-erp", "--port", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)  # TimeoutExpired: it did not stop
    finally:
        if proc.poll() is None:
            proc.kill()
            raise AssertionError("pyloader ignored SIGINT inherited as ignored")
