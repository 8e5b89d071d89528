"""The kernels' SQL declarations against the code behind them, so that nothing
is kept in step by hand: masterfile.forecast_batch (sql/control/) against
pyloader/kernels/forecast.py's batch(), the window lengths each language
writes once (docs/weekly-series.md, "The two lengths"), and the byte layout
of weekly series in SQL and Python.
"""
from __future__ import annotations

import inspect
import re
import struct
from pathlib import Path

import psycopg
import pytest

from pyloader import migrate, plpython
from pyloader.kernels import forecast
from tests.conftest import row_set, scalar

REPO = Path(__file__).resolve().parent.parent
FORECAST_SQL = migrate.SQL_DIR / "control" / "025_forecast_kernel.sql"


def declared_arguments(conn: psycopg.Connection, function: str) -> tuple[list[str], list[str]]:
    """A function's IN and OUT argument names, in declaration order."""
    row = conn.execute(
        "SELECT array_agg(a.name ORDER BY a.n) FILTER (WHERE a.mode = 'i'),"
        "       array_agg(a.name ORDER BY a.n) FILTER (WHERE a.mode = 'o')"
        " FROM pg_proc p, unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY AS a(name, mode, n)"
        " WHERE p.oid = %s::regproc", (function,)).fetchone()
    return row[0], row[1]


def test_forecast_batch_is_batch_declared(db_url):
    """Its arguments are batch()'s parameters in order, its OUT arrays
    BATCH_COLUMNS, and its body passes every argument on, in order."""
    params = list(inspect.signature(forecast.batch).parameters)
    with psycopg.connect(db_url) as conn:
        ins, outs = declared_arguments(conn, "masterfile.forecast_batch")
        body = scalar(conn, "SELECT prosrc FROM pg_proc WHERE oid = 'masterfile.forecast_batch'::regproc")
    assert ins == [f"p_{name}" for name in params]
    assert outs == list(forecast.BATCH_COLUMNS)
    call = body[body.index("\nreturn module.") + 1:].strip()
    assert re.sub(r"\s+", " ", call) == f"return module.batch({', '.join(ins)})"


def test_forecast_batch_embeds_the_repository_kernel(tenant):
    """The body is the loader of pyloader/kernels/forecast.py as read at migrate time, then the call."""
    with tenant.connect() as conn:
        body = scalar(conn, "SELECT prosrc FROM pg_proc WHERE oid = 'masterfile.forecast_batch'::regproc")
        props = conn.execute(
            "SELECT provolatile, proparallel, prosecdef, proconfig FROM pg_proc"
            " WHERE oid = 'masterfile.forecast_batch'::regproc").fetchone()
        grantees = row_set(conn, "SELECT grantee::regrole::text FROM pg_proc,"
                                 " aclexplode(proacl) WHERE oid = 'masterfile.forecast_batch'::regproc")
    assert body.startswith("\n" + plpython.kernel_loader("forecast") + "\nreturn module.batch(")
    assert body.strip() in migrate.sql_text(FORECAST_SQL)
    assert repr(Path(forecast.__file__).read_text()) in body  # the source itself, not a path to it
    assert props == ("i", "s", False, ["search_path=pg_catalog, pg_temp"])
    # the pipeline's alone: unbounded work for whoever calls it
    assert (f"{tenant.schema}_pipeline",) in grantees
    assert not {(tenant.schema,), (f"{tenant.schema}_owner",), (f"{tenant.schema}_ui",), ("-",), ("public",)} & grantees


def test_window_lengths_agree_across_languages(db_url):
    c_source = (REPO / "ext" / "masterfile_kernel.c").read_text()
    (c_lookback,) = re.findall(r"^#define MAX_LOOKBACK (\d+)\b", c_source, re.MULTILINE)
    with psycopg.connect(db_url) as conn:
        assert scalar(conn, "SELECT masterfile.forecast_weeks()") == forecast.MAX_WEEKS
        assert scalar(conn, "SELECT masterfile.features_lookback_weeks()") == int(c_lookback)


def test_series_bytes_are_float8send(db_url):
    """Python's helpers write and read what SQL's string_agg(float8send()) makes."""
    values = [0.0, -0.0, 1.5, -2.25, 1e-300, 12345.678, float(2**53 + 1)]
    with psycopg.connect(db_url) as conn:
        sql_bytes = scalar(conn, "SELECT string_agg(float8send(v), ''::bytea ORDER BY n)"
                                 " FROM unnest(%s::float8[]) WITH ORDINALITY AS s(v, n)", (values,))
    assert forecast.series_to_bytes(values) == sql_bytes == b"".join(struct.pack(">d", v) for v in values)
    assert forecast.series_from_bytes(sql_bytes).tolist() == values
    assert forecast.series_to_bytes([]) == b"" and forecast.series_from_bytes(b"").size == 0
    with pytest.raises(ValueError, match="tail: 7 bytes is not a whole number of float8"):
        forecast.series_from_bytes(sql_bytes[:7], "tail")


def test_embed_kernels_replaces_whole_lines_only(tmp_path, monkeypatch):
    (tmp_path / "k.py").write_text("def f():\n    return '@kernel k@'\n")
    monkeypatch.setattr(plpython, "KERNELS_DIR", tmp_path)
    text = "AS $kernel$\n@kernel k@\nreturn module.f()\n$kernel$;\n-- not this: @kernel k@\n"
    out = plpython.embed_kernels(text)
    assert out.startswith("AS $kernel$\n" + plpython.kernel_loader("k") + "\nreturn module.f()\n$kernel$;\n")
    assert out.endswith("-- not this: @kernel k@\n")
    namespace = {"GD": {}}
    exec(plpython.kernel_loader("k") + "\nresult = module.f()", namespace)
    assert namespace["result"] == "@kernel k@" and len(namespace["GD"]) == 1
    (tmp_path / "k.py").write_text("x = '$kernel$'\n")
    with pytest.raises(ValueError, match="would end the function body"):
        plpython.embed_kernels(text)
