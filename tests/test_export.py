"""`pyloader export` (issue 16): the files read back equal the views row for
row and value for value, from one snapshot, written whole or not at all.

Every export here is the real command line in a process of its own.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from psycopg import sql

from pyloader import export as export_module
from tests.conftest import TenantHandle, admin, drop_database, pyloader, url_for
from tests.plan_checks import AS_OF, load_fake_erp, process

SIZE = "12x3x500"
KEYS = {"master_file": ("product_id", "location_id", "week_start"),
        "recommendations": ("product_id", "location_id"),
        "forecasts": ("product_id", "location_id", "target_week")}
NOTES = {  # what the UI may write into a text column, CSV's hard cases among it
    "P00001": 'a "quoted", two-line\nnote',
    "P00002": "",  # an empty string, not a null
    "P00003": "ünïcödé, and a trailing backslash \\",
}


@pytest.fixture(scope="module")
def source(template_db):
    """A computed tenant with UI decisions, shared by the tests that only read it."""
    name = f"mf_export_{os.getpid()}"
    with admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                      sql.Identifier(template_db)))
    url = url_for(name)
    from pyloader import tenants

    t = tenants.create_tenant("acme", url, schedule=False)
    tenant = TenantHandle(t.client_id, t.schema, url)
    computed(tenant)
    yield tenant
    drop_database(name)


def computed(tenant: TenantHandle) -> None:
    with tenant.connect() as conn:
        conn.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    load_fake_erp(tenant, size=SIZE)
    process(tenant)
    with tenant.connect("ui") as ui:
        for product_id, note in NOTES.items():
            ui.execute("UPDATE recommendations SET decision = 'approved', approved_qty = 2.5, decided_by = 'ann',"
                       " decided_at = now(), note = %s WHERE product_id = %s", (note, product_id))
        # doubles that text formats get wrong: a negative zero, the smallest subnormal
        for product_id, qty in (("P00007", "-0"), ("P00008", "4.9e-324")):
            ui.execute("UPDATE recommendations SET approved_qty = %s::double precision WHERE product_id = %s",
                       (qty, product_id))
    with tenant.connect() as owner:  # and what no kernel writes today but a double may hold
        owner.execute("UPDATE features SET ewm_revenue_s2 = 'NaN', ewm_revenue_s4 = 'Infinity',"
                      " ewm_revenue_s8 = '-Infinity', ewm_revenue_s13 = 0.1::float8 + 0.2::float8"
                      " WHERE product_id = 'P00004' AND week_start = (SELECT max(week_start) FROM features)")


def view_rows(tenant: TenantHandle, table: str, where: str = "", params=None, columns: str = "*") -> tuple:
    """(column names, rows in key order) of a view, as the tenant's reader sees it."""
    with tenant.connect("reader") as conn:
        cur = conn.execute(f"SELECT {columns} FROM {table} {where} ORDER BY {', '.join(KEYS[table])}", params)
        return [d.name for d in cur.description], cur.fetchall()


def view_types(tenant: TenantHandle, table: str) -> dict[str, str]:
    with tenant.connect("reader") as conn:
        return dict(conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (table,)).fetchall())


def bits(value):
    """A value made comparable bit for bit: doubles by their IEEE bytes."""
    return ("f8", struct.pack("<d", value)) if isinstance(value, float) else value


def sorted_rows(names: list[str], rows: list, table: str) -> list:
    idx = [names.index(k) for k in KEYS[table]]
    return sorted(rows, key=lambda r: tuple(r[i] for i in idx))


def assert_same(names: list[str], got: list, want: list) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for name, gv, wv in zip(names, g, w):
            assert bits(gv) == bits(wv), (name, g[:3], gv, wv)


def run_export(tenant: TenantHandle, path, *args: str) -> dict:
    res = pyloader("export", tenant.client_id, "--to", str(path), "--json", *args, url=tenant.url)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def read_parquet(path) -> tuple[list[str], list]:
    table = pq.read_table(path)
    names = table.column_names
    cols = [table.column(n).to_pylist() for n in names]
    return names, [tuple(r) for r in zip(*cols)]


def parse_csv_value(text: str, pg_type: str):
    """A CSV field back to the Python value psycopg gives; the empty field is a null."""
    if text == "":
        return None  # (an empty string is `""` in the file; test_csv_tells_an_empty_string_from_a_null)
    if pg_type == "double precision":
        return float(text)
    if pg_type == "integer":
        return int(text)
    if pg_type == "boolean":
        return {"t": True, "f": False}[text]
    if pg_type == "date":
        return dt.date.fromisoformat(text)
    if pg_type == "timestamp with time zone":
        return dt.datetime.fromisoformat(text)
    return text


def read_csv(path, types: dict[str, str]) -> tuple[list[str], list]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        names = next(reader)
        return names, [tuple(parse_csv_value(v, types[n]) for n, v in zip(names, row)) for row in reader]


def empty_strings_as_nulls(rows: list) -> list:
    return [tuple(None if v == "" else v for v in r) for r in rows]


# ---------------------------------------------------------------- the files equal the views

# each table's week column holds other weeks: (from, to) that select some of its rows
WEEKS = {"master_file": ("2025-01-06", "2025-03-31"), "recommendations": ("2025-06-23", "2025-06-23"),
         "forecasts": ("2025-07-07", "2025-07-21")}
FILTERS = ["all", "weeks", "from", "to", "products"]


def filter_for(table: str, name: str) -> tuple[list[str], str]:
    """The export's options for a filter, and the WHERE clause that selects the same rows."""
    first, last = WEEKS[table]
    week = export_module.TABLES[table]
    return {
        "all": ([], ""),
        "weeks": (["--from-week", first, "--to-week", last], f"WHERE {week} BETWEEN '{first}' AND '{last}'"),
        "from": (["--from-week", first], f"WHERE {week} >= '{first}'"),
        "to": (["--to-week", last], f"WHERE {week} <= '{last}'"),
        "products": (["--product-id", "P00002", "--product-id", "P00007"],
                     "WHERE product_id IN ('P00002', 'P00007')"),
    }[name]


@pytest.mark.parametrize("table", list(KEYS))
@pytest.mark.parametrize("flt", FILTERS)
def test_parquet_equals_the_view(source, tmp_path, table, flt):
    path = tmp_path / "out.parquet"
    args, where = filter_for(table, flt)
    summary = run_export(source, path, "--table", table, *args)
    names, want = view_rows(source, table, where)
    assert want, "a filter that selects nothing proves nothing"
    if flt == "products" or table != "recommendations":  # (one as_of_week for all: see the empty selection)
        assert flt == "all" or len(want) < len(view_rows(source, table)[1]), "nor does one that selects everything"
    got_names, got = read_parquet(path)
    assert got_names == names
    assert_same(names, sorted_rows(names, got, table), want)
    assert summary["rows"] == len(want) and summary["bytes"] == path.stat().st_size
    assert summary["table"] == table and summary["file"] == str(path)


@pytest.mark.parametrize("table", list(KEYS))
@pytest.mark.parametrize("flt", ["all", "weeks", "products"])
def test_csv_equals_the_view(source, tmp_path, table, flt):
    path = tmp_path / "out.csv"
    args, where = filter_for(table, flt)
    summary = run_export(source, path, "--table", table, *args)
    names, want = view_rows(source, table, where)
    assert want
    got_names, got = read_csv(path, view_types(source, table))
    assert got_names == names
    assert_same(names, sorted_rows(names, got, table), empty_strings_as_nulls(want))
    assert summary["rows"] == len(want) and summary["format"] == "csv"


def test_parquet_types_and_metadata_are_the_contracts(source, tmp_path):
    arrow = {"date": pa.date32(), "double precision": pa.float64(), "integer": pa.int32(), "bigint": pa.int64(),
             "boolean": pa.bool_(), "text": pa.string(), "timestamp with time zone": pa.timestamp("us", tz="UTC")}
    for table in KEYS:
        path = tmp_path / f"{table}.parquet"
        summary = run_export(source, path, "--table", table)
        f = pq.ParquetFile(path)
        types = view_types(source, table)
        assert {fl.name: fl.type for fl in f.schema_arrow} == {n: arrow[t] for n, t in types.items()}
        meta = {k.decode(): v.decode() for k, v in f.schema_arrow.metadata.items()}
        with source.connect("reader") as conn:
            end_week, revision = conn.execute("SELECT end_week(), version_num FROM alembic_version").fetchone()
        assert meta["client_id"] == "acme" and meta["table"] == table
        assert meta["as_of_week"] == end_week.isoformat() == summary["as_of_week"]
        assert meta["revision"] == revision
        exported_at = dt.datetime.fromisoformat(meta["exported_at"])
        assert abs((dt.datetime.now(dt.timezone.utc) - exported_at).total_seconds()) < 120
    # the master file comes in row groups, each compressed
    path = tmp_path / "snappy.parquet"
    run_export(source, path, "--compression", "snappy")
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "SNAPPY"
    assert pq.ParquetFile(tmp_path / "master_file.parquet").metadata.row_group(0).column(0).compression == "ZSTD"


def test_the_hard_values_survive(source, tmp_path):
    """Doubles that text gets wrong and text that CSV gets wrong."""
    with source.connect("reader") as conn:
        week = conn.execute("SELECT max(week_start) FROM features").fetchone()[0]
    for suffix in ("parquet", "csv"):
        path = tmp_path / f"m.{suffix}"
        run_export(source, path, "--product-id", "P00004", "--from-week", week.isoformat(),
                   "--columns", "product_id,location_id,week_start,ewm_revenue_s2,ewm_revenue_s4,ewm_revenue_s8,"
                   "ewm_revenue_s13")
        if suffix == "parquet":
            names, rows = read_parquet(path)
        else:
            names, rows = read_csv(path, view_types(source, "master_file"))
        marked = [r for r in rows if r[2] == week]
        assert marked
        for r in marked:
            assert math.isnan(r[3]) and r[4] == math.inf and r[5] == -math.inf and r[6] == 0.1 + 0.2 != 0.3
    run_export(source, tmp_path / "r.parquet", "--table", "recommendations")
    names, rows = read_parquet(tmp_path / "r.parquet")
    by_product = {r[names.index("product_id")]: r for r in rows}
    qty = names.index("approved_qty")
    assert struct.pack("<d", by_product["P00007"][qty]) == struct.pack("<d", -0.0)
    assert by_product["P00008"][qty] == 5e-324
    for product_id, note in NOTES.items():
        assert by_product[product_id][names.index("note")] == note
    assert by_product["P00009"][names.index("note")] is None


def test_csv_tells_an_empty_string_from_a_null(source, tmp_path):
    path = tmp_path / "r.csv"
    run_export(source, path, "--table", "recommendations", "--columns", "product_id,location_id,note")
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        strings_can_be_null=True, quoted_strings_can_be_null=False))
    notes = {}
    for p, n in zip(table.column("product_id").to_pylist(), table.column("note").to_pylist()):
        notes.setdefault(p, n)
    assert notes["P00002"] == "" and notes["P00009"] is None and notes["P00001"] == NOTES["P00001"]


def test_columns_keep_the_views_order(source, tmp_path):
    path = tmp_path / "c.parquet"
    run_export(source, path, "--columns", "units_sold,week_start,product_id,location_id")
    names, rows = read_parquet(path)
    assert names == ["product_id", "location_id", "week_start", "units_sold"]
    _, want = view_rows(source, "master_file", columns="product_id, location_id, week_start, units_sold")
    assert_same(names, sorted_rows(names, rows, "master_file"), want)


def test_an_empty_selection_is_a_file_with_the_schema_and_no_rows(source, tmp_path):
    for suffix in ("parquet", "csv"):
        path = tmp_path / f"e.{suffix}"
        summary = run_export(source, path, "--product-id", "NO-SUCH-PRODUCT")
        assert summary["rows"] == 0
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0
    assert pq.read_table(tmp_path / "e.parquet").column_names == view_rows(source, "master_file", "WHERE false")[0]
    assert (tmp_path / "e.csv").read_text().count("\n") == 1  # the header
    # every recommendation is as of one week: the week before selects none
    assert run_export(source, tmp_path / "r.parquet", "--table", "recommendations",
                      "--to-week", "2025-06-16")["rows"] == 0


# ---------------------------------------------------------------- bad input


def assert_refused(res: subprocess.CompletedProcess, words: str, folder) -> None:
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize("args, words", [
    (["--table", "nope"], "invalid choice: 'nope'"),
    (["--columns", "product_id,no_such_column"], "has no column 'no_such_column'"),
    (["--from-week", "2025-01-07"], "is a Tuesday"),
    (["--to-week", "2025-13-01"], "is not a date"),
    (["--from-week", "2025-03-03", "--to-week", "2025-01-06"], "is after --to-week"),
    (["--compression", "lz4"], "invalid choice: 'lz4'"),
])
def test_bad_input_is_one_line_and_writes_nothing(source, tmp_path, args, words):
    res = pyloader("export", "acme", "--to", str(tmp_path / "x.parquet"), *args, url=source.url)
    assert_refused(res, words, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unknown_tenant_unwritable_path_and_existing_file(source, tmp_path):
    res = pyloader("export", "nobody", "--to", str(tmp_path / "x.parquet"), url=source.url)
    assert_refused(res, "unknown tenant 'nobody'", tmp_path)
    res = pyloader("export", "acme", "--to", str(tmp_path / "missing" / "x.parquet"), url=source.url)
    assert_refused(res, "does not exist", tmp_path)
    res = pyloader("export", "acme", "--to", str(tmp_path / "x.txt"), url=source.url)
    assert_refused(res, "must end in .parquet or .csv", tmp_path)
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    try:
        if os.geteuid() == 0:  # root writes anywhere: a folder that is a file is as unwritable
            target = tmp_path / "plain" / "x.csv"
            (tmp_path / "plain").write_text("")
            res = pyloader("export", "acme", "--to", str(target), url=source.url)
            assert_refused(res, "cannot write", tmp_path)
        else:
            res = pyloader("export", "acme", "--to", str(locked / "x.csv"), url=source.url)
            assert_refused(res, "is not writable", tmp_path)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
    existing = tmp_path / "old.parquet"
    existing.write_bytes(b"keep me")
    res = pyloader("export", "acme", "--to", str(existing), url=source.url)
    assert_refused(res, "exists; pass --overwrite", tmp_path)
    assert existing.read_bytes() == b"keep me"
    run_export(source, existing, "--overwrite")
    assert pq.read_table(existing).num_rows == len(view_rows(source, "master_file")[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.parquet", "plain", "ro"]


# ---------------------------------------------------------------- one snapshot, whole or nothing


def start_export(tenant: TenantHandle, path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=tenant.url)
    started = time.monotonic()
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "pyloader"), "export", tenant.client_id,
                             "--to", str(path), "--json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    proc.started = started
    return proc


def wait_for_lock_wait(tenant: TenantHandle, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Until the export's session waits for a lock the test holds."""
    started = getattr(proc, "started", time.monotonic())
    deadline = time.monotonic() + timeout
    with admin() as conn:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            # this export's session (a backend the export before it left
            # behind does not count), waiting for the test's lock
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND usename = 'masterfile_app' AND datname = %s"
                " AND backend_start > now() - make_interval(secs => %s)",
                (psycopg.conninfo.conninfo_to_dict(tenant.url)["dbname"], time.monotonic() - started + 1)).fetchone()[0]
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the export never waited for the lock")


def hold_lock(tenant: TenantHandle, table: str) -> psycopg.Connection:
    conn = psycopg.connect(tenant.url)
    conn.execute(sql.SQL("LOCK TABLE {}.{} IN ACCESS EXCLUSIVE MODE").format(
        sql.Identifier(tenant.schema), sql.Identifier(table)))
    return conn


def test_a_run_committed_during_an_export_changes_nothing_in_the_file(tenant, tmp_path):
    computed(tenant)
    names, before = view_rows(tenant, "master_file")
    with tenant.connect("reader") as conn:
        end_week = conn.execute("SELECT end_week()").fetchone()[0]
    # the export takes its snapshot with its first query, then reads the
    # tenant's revision: holding that table stops it between the two
    gate = hold_lock(tenant, "alembic_version")
    try:
        proc = start_export(tenant, tmp_path / "s.parquet")
        wait_for_lock_wait(tenant, proc)
        # meanwhile: a corrected sales line and a calendar roll, computed and committed
        with tenant.connect("loader") as loader:
            loader.execute("UPDATE erp_sales_lines SET qty = qty + 5, updated_at = updated_at + interval '1 day'"
                           " WHERE ctid = (SELECT min(ctid) FROM erp_sales_lines WHERE NOT deleted)")
        with tenant.connect() as owner:
            owner.execute("UPDATE settings SET as_of_date = as_of_date + 7")
        process(tenant)
    finally:
        gate.rollback()
        gate.close()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["as_of_week"] == end_week.isoformat()
    _, after = view_rows(tenant, "master_file")
    assert len(after) > len(before)  # the run did commit: one more week for every key
    got_names, got = read_parquet(tmp_path / "s.parquet")
    assert_same(names, sorted_rows(names, got, "master_file"), before)
    assert pq.ParquetFile(tmp_path / "s.parquet").schema_arrow.metadata[b"as_of_week"] == end_week.isoformat().encode()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_an_interrupted_export_leaves_no_file(source, tmp_path, how, suffix):
    path = tmp_path / f"i.{suffix}"
    gate = hold_lock(source, "features")  # the export waits in its COPY, its temporary file open
    try:
        proc = start_export(source, path)
        wait_for_lock_wait(source, proc)
        assert [p.name.endswith(".partial") for p in tmp_path.iterdir()] == [True]
        proc.send_signal(how)
        _, err = proc.communicate(timeout=60)
    finally:
        gate.rollback()
        gate.close()
    assert proc.returncode != 0
    assert err.strip().splitlines() == ["pyloader: interrupted"]
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_overwrite_keeps_the_old_file(source, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("old\n")
    gate = hold_lock(source, "features")
    try:
        proc = start_export(source, path, "--overwrite")
        wait_for_lock_wait(source, proc)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        gate.rollback()
        gate.close()
    assert proc.returncode != 0
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["o.csv"]


def test_progress_on_a_terminal_counts_rows_of_the_total(source, tmp_path):
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, DATABASE_URL=source.url)
    try:
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "pyloader"), "export", "acme",
                               "--to", str(tmp_path / "p.parquet")],
                              stdout=subprocess.PIPE, stderr=slave, env=env, timeout=120)
        os.close(slave)
        seen = b""
        while True:
            try:
                part = os.read(master, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not part:
                break
            seen += part
    finally:
        os.close(master)
    assert proc.returncode == 0
    total = len(view_rows(source, "master_file")[1])
    last = seen.decode().replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith(f"export: {total:,} of {total:,} rows") and last.rstrip().endswith("rows/s"), seen
