"""`pyloader load CLIENT --api URL` against the fake ERP over real HTTP on
loopback: every fault, nothing lost, nothing applied twice, watermarks that
move only after a whole entity loaded (issue 3)."""
from __future__ import annotations

import datetime as dt
import os
import pty
import subprocess
import threading
import time

import psycopg
import pytest
from psycopg import sql

from pyloader import load
from pyloader.fake_erp import FakeErp, FakeErpServer, Faults, iter_records
from pyloader.fake_erp.generator import _EPOCH
from pyloader.fake_erp.server import is_malformed
from pyloader.normalize import ENTITY_ORDER, entity
from pyloader.sources.api import RetryPolicy
from tests.conftest import pyloader, row_set, scalar

FAST = RetryPolicy(backoff=0.001, max_backoff=0.01, timeout=5)
TOKEN = "t0ken-not-for-logs"


def instant(us: int) -> dt.datetime:
    return (_EPOCH + dt.timedelta(microseconds=us)).replace(tzinfo=dt.timezone.utc)


def run_load(tenant, srv, **kw):
    kw.setdefault("retry", FAST)
    kw.setdefault("page_size", 50)
    kw.setdefault("batch_size", 300)
    return {r.entity: r for r in load.load_api(tenant.client_id, srv.url, url=tenant.url, token=TOKEN, **kw)}


def expected_state(ds, name, generation):
    """key -> (updated_at, deleted) of what the ERP holds at a generation."""
    ent = entity(name)
    return {
        tuple(r[k] for k in ent.key_names): (instant(us), bool(r.get("deleted")))
        for us, r in iter_records(ds, name, generation)
    }


def db_state(conn, name):
    ent = entity(name)
    cols = sql.SQL(", ").join(map(sql.Identifier, ent.key_names))
    rows = conn.execute(sql.SQL("SELECT {}, updated_at, deleted FROM {}").format(cols, sql.Identifier(ent.table)))
    n = len(ent.key_names)
    return {tuple(r[:n]): (r[n], r[n + 1]) for r in rows}


def xmins(conn):
    return {n: row_set(conn, sql.SQL("SELECT xmin::text, ctid::text FROM {}").format(sql.Identifier(entity(n).table)))
            for n in ENTITY_ORDER}


def watermarks(conn):
    return dict(conn.execute("SELECT entity, updated_at FROM watermarks").fetchall())


def tuple_writes(url, schema, expected_inserts: dict[str, int], timeout=15.0):
    """n_tup_ins / n_tup_upd per ERP table, once the finished loader's statistics arrived."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(url, autocommit=True) as conn:
            got = {
                name[4:]: (ins, upd)
                for name, ins, upd in conn.execute(
                    "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables "
                    "WHERE schemaname = %s AND relname LIKE 'erp\\_%%'", (schema,))
            }
        if all(got.get(n, (0, 0))[0] >= c for n, c in expected_inserts.items()) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


@pytest.fixture
def erp():
    return FakeErp(21, "small", token=TOKEN)


@pytest.fixture
def srv(erp):
    with FakeErpServer(erp) as s:
        yield s


def test_every_fault_at_once_loses_nothing_and_applies_nothing_twice(tenant, erp, srv):
    erp.faults = Faults(error_rate=0.08, rate_limit_rate=0.08, retry_after=0, drop_rate=0.08,
                        slow_rate=0.08, slow_seconds=1.2, repeat_rate=0.15)
    res = run_load(tenant, srv, page_size=25, retry=RetryPolicy(backoff=0.001, max_backoff=0.01, timeout=0.6))
    ds = erp.dataset
    counts = ds.counts()
    assert all(r.ok for r in res.values()), {n: (r.status, r.message) for n, r in res.items() if not r.ok}
    for what in ("errors", "rate_limited", "dropped", "slow", "repeated"):
        assert erp.stats.get(what), (what, erp.stats)
    with tenant.connect() as conn:
        for name in ENTITY_ORDER:
            assert db_state(conn, name) == expected_state(ds, name, 0), name  # nothing lost, nothing extra
            c = res[name].counts
            assert c.applied == counts[name] and c.rejected == 0 and c.stale == 0
            assert c.read == c.applied + c.unchanged  # repeated pages came back as no-ops
        assert watermarks(conn) == {n: instant(ds.newest_us(n, 0)) for n in ENTITY_ORDER}
        # each entity's retries are recorded with its load, for the metrics
        recorded = dict(conn.execute("SELECT entity, retries FROM loads"))
        assert recorded == {n: res[n].retries for n in ENTITY_ORDER} and sum(recorded.values()) > 0
    # every row was inserted once and never updated
    writes = tuple_writes(tenant.url, tenant.schema, counts)
    assert writes == {n: (counts[n], 0) for n in ENTITY_ORDER}


def test_a_replayed_load_writes_no_row(tenant, erp, srv):
    first = run_load(tenant, srv)
    counts = erp.dataset.counts()
    assert all(r.ok for r in first.values())
    writes = tuple_writes(tenant.url, tenant.schema, counts)
    with tenant.connect() as conn:
        before = xmins(conn)
        marks = watermarks(conn)
    again = run_load(tenant, srv)
    assert all(r.ok and r.counts.applied == 0 and r.counts.read == r.counts.unchanged > 0 for r in again.values())
    with tenant.connect() as conn:
        assert xmins(conn) == before
        assert watermarks(conn) == marks
    time.sleep(1.5)  # give a write, had there been one, time to reach the statistics
    assert tuple_writes(tenant.url, tenant.schema, counts) == writes


def test_the_lookback_catches_late_lines_corrections_and_deletions(tenant, erp, srv):
    ds = erp.dataset
    assert all(r.ok for r in run_load(tenant, srv).values())
    erp.set_generation(1)
    res = run_load(tenant, srv)
    with tenant.connect() as conn:
        for name in ENTITY_ORDER:
            assert db_state(conn, name) == expected_state(ds, name, 1), name
        assert scalar(conn, "SELECT count(*) FROM erp_sales_lines WHERE deleted") > 0
        assert scalar(conn, "SELECT count(*) FROM erp_sales_lines WHERE txn_id LIKE 'LATE%'") > 0
        assert watermarks(conn) == {n: instant(ds.newest_us(n, 1)) for n in ENTITY_ORDER}
        # the lookback re-reads a little: those records come back as no-ops, never as writes
        assert res["sales_lines"].counts.unchanged > 0
        # without a lookback the next late lines are missed: the reason it exists
        conn.execute("RESET ROLE")
        conn.execute("UPDATE loader_config SET lookback = interval '0'")
    erp.set_generation(2)
    run_load(tenant, srv)
    with tenant.connect() as conn:
        missing = set(expected_state(ds, "sales_lines", 2)) - set(db_state(conn, "sales_lines"))
    assert missing and all(k[0].startswith("LATE002-") for k in missing)


def test_malformed_records_are_rejected_raw_and_the_rest_applied(tenant, erp, srv):
    erp.faults = Faults(malformed_rate=0.03)
    res = run_load(tenant, srv)
    ds = erp.dataset
    with tenant.connect() as conn:
        for name in ENTITY_ORDER:
            bad = {k for k, (seg, pos) in _positions(ds, name).items() if is_malformed(ds, name, seg, pos, 0.03)}
            assert res[name].ok and res[name].counts.rejected == len(bad), name
            assert set(db_state(conn, name)) == set(expected_state(ds, name, 0)) - bad, name
        assert sum(r.counts.rejected for r in res.values()) == erp.stats["malformed"] > 0
        raw, reason = conn.execute("SELECT raw, reason FROM rejects WHERE reason LIKE 'business_date%' LIMIT 1").fetchone()
        assert '"2025-02-30"' in raw and reason == "business_date: impossible date (2025-02-30)"


def _positions(ds, name):
    ent = entity(name)
    return {
        tuple(rec[k] for k in ent.key_names): (seg, positions[seg] - 1)
        for _, positions, seg, rec in ds.stream(name, 0) if rec is not None
    }


def test_a_failing_entity_keeps_its_watermark_and_what_it_applied(tenant, erp, srv):
    ds = erp.dataset
    erp.faults.broken_from_page["sales_lines"] = 4
    res = run_load(tenant, srv)
    assert not res["sales_lines"].ok
    assert "sales_lines page 4" in res["sales_lines"].message and "not JSON" in res["sales_lines"].message
    assert all(r.ok for n, r in res.items() if n != "sales_lines")
    with tenant.connect() as conn:
        marks = watermarks(conn)
        assert "sales_lines" not in marks and len(marks) == len(ENTITY_ORDER) - 1
        assert scalar(conn, "SELECT count(*) FROM erp_sales_lines") == res["sales_lines"].counts.applied == 150
        assert scalar(conn, "SELECT status FROM loads WHERE entity = 'sales_lines'") == "failed"

    del erp.faults.broken_from_page["sales_lines"]
    erp.set_generation(1)
    erp.faults.broken_from_page["sales_lines"] = 2  # fails again, one generation later
    run_load(tenant, srv)
    with tenant.connect() as conn:
        assert "sales_lines" not in watermarks(conn)
    erp.faults.broken_from_page.clear()
    res = run_load(tenant, srv)
    assert all(r.ok for r in res.values())
    with tenant.connect() as conn:
        assert watermarks(conn)["sales_lines"] == instant(ds.newest_us("sales_lines", 1))
        assert db_state(conn, "sales_lines") == expected_state(ds, "sales_lines", 1)


def test_forbidden_missing_and_failing_collections_fail_alone(tenant, erp, srv):
    erp.faults.status_for.update({"suppliers": 403, "receipt_lines": 404, "invoice_lines": 503})
    res = run_load(tenant, srv)
    assert "HTTP 403" in res["suppliers"].message
    assert "HTTP 404" in res["receipt_lines"].message
    assert "giving up after 6 attempts: HTTP 503" in res["invoice_lines"].message
    assert {n for n, r in res.items() if r.ok} == {"products", "locations", "purchase_order_lines", "sales_lines"}
    with tenant.connect() as conn:
        assert set(watermarks(conn)) == {"products", "locations", "purchase_order_lines", "sales_lines"}


def test_the_database_connection_dropping_mid_load_is_retried(tenant, erp, srv):
    erp.faults = Faults(slow_rate=1.0, slow_seconds=0.15)
    killed = []

    def kill_loader():
        time.sleep(0.6)
        with psycopg.connect(tenant.url, autocommit=True) as conn:
            killed.extend(r[0] for r in conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'pyloader load' AND datname = current_database()"))

    t = threading.Thread(target=kill_loader)
    t.start()
    res = run_load(tenant, srv, page_size=200, batch_size=200)
    t.join()
    assert killed == [True]
    assert all(r.ok for r in res.values()), {n: r.message for n, r in res.items()}
    with tenant.connect() as conn:
        for name in ENTITY_ORDER:
            assert db_state(conn, name) == expected_state(erp.dataset, name, 0)
        # the batch in flight was rolled back with its counters, then applied once
        assert row_set(conn, "SELECT entity, read_count, applied_count FROM loads") == {
            (n, c, c) for n, c in erp.dataset.counts().items()}


# --- tokens and the command line --------------------------------------------------------


def test_the_token_comes_from_the_tenant_configuration(tenant, erp, srv):
    with tenant.connect() as conn:
        conn.execute("UPDATE loader_config SET api_token = %s", (TOKEN,))
    env_token = os.environ.pop(load.TOKEN_ENV, None)
    try:
        res = load.load_api(tenant.client_id, srv.url, url=tenant.url, retry=FAST, entities=["products"])
    finally:
        if env_token is not None:
            os.environ[load.TOKEN_ENV] = env_token
    assert res[0].ok


def test_cli_wrong_token_fails_fast_with_one_line_and_no_secret(tenant, erp, srv):
    res = pyloader("load", tenant.client_id, "--api", srv.url, url=tenant.url,
                   env={load.TOKEN_ENV: "wrong-secret-value"})
    assert res.returncode == 1
    (line,) = res.stderr.strip().splitlines()
    assert "HTTP 401" in line and "MASTERFILE_ERP_TOKEN" in line
    assert "wrong-secret-value" not in res.stderr + res.stdout and TOKEN not in res.stderr + res.stdout
    with tenant.connect() as conn:
        # a refused token is refused for every collection: the load stops at the first
        assert conn.execute("SELECT entity, status FROM loads").fetchall() == [("products", "failed")]
        assert not scalar(conn, "SELECT count(*) FROM loads WHERE message LIKE %s", (f"%{TOKEN}%",))


def test_cli_unreachable_api_is_one_clear_line(tenant):
    with FakeErpServer(FakeErp()) as s:
        url = s.url  # closed again: nothing listens there
    res = pyloader("load", tenant.client_id, "--api", url, url=tenant.url, timeout=120)
    assert res.returncode == 1
    *retries, line = res.stderr.strip().splitlines()
    assert "connection failed" in line and url in line and "giving up after 6 attempts" in line
    # each retry is one line with its reason, as it happens
    assert len(retries) == 5 and all(f"retry {i} of 5 in " in r and "connection failed" in r
                                     for i, r in enumerate(retries, 1))


def pyloader_on_a_terminal(*args: str, env: dict) -> tuple[subprocess.CompletedProcess, str]:
    """Run the command line with stderr on a pseudo-terminal: its result, and what the terminal showed."""
    master, slave = pty.openpty()
    try:
        exe = os.path.join(os.path.dirname(os.sys.executable), "pyloader")
        proc = subprocess.run([exe, *args], stdout=subprocess.PIPE, stderr=slave, env=dict(os.environ, **env),
                              timeout=120, text=True)
        os.close(slave)
        slave = None
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    return proc, b"".join(chunks).decode()


def test_cli_loads_from_the_api_with_progress_on_a_terminal(tenant, erp, srv):
    proc, tty = pyloader_on_a_terminal("load", tenant.client_id, "--api", srv.url, "--page-size", "100",
                                       env={"DATABASE_URL": tenant.url, load.TOKEN_ENV: TOKEN})
    assert proc.returncode == 0, tty
    assert [line.split()[:2] for line in proc.stdout.splitlines()] == [[n, "succeeded"] for n in ENTITY_ORDER]
    assert "sales_lines" in tty and "records" in tty and "/s" in tty and "page" in tty
    assert TOKEN not in tty + proc.stdout
