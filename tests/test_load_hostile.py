"""A hostile tenant or a hostile ERP (issue 14) and loads you can script
(issue 21): the loader applies what is good, rejects what breaks the
contract with its reason, never lets one record or one API hold the tenant,
and says what it did in one JSON document."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from psycopg import sql

from pyloader import load
from pyloader.fake_erp import Faults
from pyloader.normalize import ENTITY_ORDER, MAX_RAW_BYTES
from pyloader.sources.api import PageLimits, RetryPolicy
from tests.conftest import admin, pyloader, row_set, scalar
from tests.test_load_api import erp, srv  # noqa: F401 - the fixtures, shared
from tests.test_load_api import TOKEN, instant, pyloader_on_a_terminal, watermarks
from tests.test_load_files import sale, write_jsonl

FAST = RetryPolicy(backoff=0.001, max_backoff=0.01, timeout=5, deadline=5)
T1 = "2025-01-02T00:00:00Z"


def api_load(tenant, srv, **kw):
    kw.setdefault("retry", FAST)
    kw.setdefault("page_size", 50)
    kw.setdefault("batch_size", 300)
    return {r.entity: r for r in load.load_api(tenant.client_id, srv.url, url=tenant.url, token=TOKEN, **kw)}


def loads_of(conn):
    return conn.execute("SELECT load_id, entity, status, applied_count, message FROM loads ORDER BY load_id").fetchall()


# --- issue 14: records ------------------------------------------------------------------


def test_a_record_dated_in_the_future_is_loaded_but_does_not_move_the_watermark(tenant, erp, srv):
    ds = erp.dataset
    erp.faults.extra_records["products"] = [{"product_id": "P-FUTURE", "name": "from 9999", "status": "active",
                                             "updated_at": "9999-12-31T00:00:00Z"}]
    res = api_load(tenant, srv)
    p = res["products"]
    assert p.ok and p.counts.future == 1 and p.counts.applied == ds.counts()["products"] + 1
    assert "1 record(s) dated after" in p.message and "9999-12-31" in p.message
    with tenant.connect() as conn:
        assert scalar(conn, "SELECT name FROM erp_products WHERE product_id = 'P-FUTURE'") == "from 9999"
        # the watermark is the newest record of now, not the year 9999
        assert watermarks(conn)["products"] == instant(ds.newest_us("products", 0))
        assert "dated after" in scalar(conn, "SELECT message FROM loads WHERE entity = 'products'")
    # later loads still see later changes (with the watermark at 9999 they saw nothing, and exited 0)
    erp.set_generation(1)
    again = api_load(tenant, srv)
    assert again["products"].counts.applied > 0 and again["products"].counts.future == 1
    with tenant.connect() as conn:
        assert watermarks(conn)["products"] == instant(ds.newest_us("products", 1))


def test_a_watermark_never_passes_now_plus_the_tolerance(tenant, erp, srv):
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)  # a clock a minute ahead: allowed
    erp.faults.extra_records["suppliers"] = [{"supplier_id": "S-SOON", "updated_at": soon.isoformat()}]
    res = api_load(tenant, srv, entities=["suppliers"])
    assert res["suppliers"].counts.future == 0 and res["suppliers"].message is None
    with tenant.connect() as conn:
        assert watermarks(conn)["suppliers"] == soon


def test_hostile_records_go_to_rejects_and_the_good_ones_beside_them_load(tenant, erp, srv):
    erp.faults.extra_records.update({
        "products": [{"product_id": "P" * 3000, "updated_at": T1}],
        "suppliers": [{"supplier_id": "S-NEG", "lead_time_days": -700, "updated_at": T1},
                      {"supplier_id": "S-ZERO", "order_multiple": 0, "updated_at": T1}],
        "sales_lines": [{"txn_id": "ANCIENT", "line_no": 1, "product_id": "P1", "location_id": "L1",
                         "business_date": "0001-01-01", "qty": 1, "updated_at": T1},
                        {"txn_id": "RETURN", "line_no": 1, "product_id": "P1", "location_id": "L1",
                         "business_date": "2025-01-01", "qty": -2, "net_amount": -5, "updated_at": T1}],
        "receipt_lines": [{"receipt_id": "R-NEG", "line_no": 1, "product_id": "P1", "location_id": "L1",
                           "received_date": "2025-01-01", "qty_received": -4, "updated_at": T1}],
    })
    res = api_load(tenant, srv)
    counts = erp.dataset.counts()
    assert all(r.ok for r in res.values()), {n: r.message for n, r in res.items() if not r.ok}
    assert {n: r.counts.rejected for n, r in res.items()} == {
        "products": 1, "locations": 0, "suppliers": 2, "purchase_order_lines": 0, "receipt_lines": 1,
        "sales_lines": 1, "invoice_lines": 0}
    assert res["products"].counts.applied == counts["products"]  # the good lines beside the 3,000-character key
    assert res["sales_lines"].counts.applied == counts["sales_lines"] + 1  # a return is a sale
    with tenant.connect() as conn:
        by_reason = [r for (r,) in conn.execute("SELECT reason FROM rejects ORDER BY reject_id")]
        assert scalar(conn, "SELECT qty::int FROM erp_sales_lines WHERE txn_id = 'RETURN'") == -2
        assert row_set(conn, "SELECT entity, reason FROM rejects WHERE entity = 'products'") == {
            ("products", "product_id: longer than 200 characters (3000)")}
    assert any(r.startswith("business_date: outside 1990-01-01 .. ") and r.endswith("(0001-01-01)") for r in by_reason)
    assert "lead_time_days: negative (-700); only a sales line's qty and net_amount may be" in by_reason
    assert "order_multiple: must be greater than 0 (0)" in by_reason
    assert any(r.startswith("qty_received: negative (-4)") for r in by_reason)


def test_a_huge_line_is_kept_cut_and_a_bom_does_not_cost_the_first_line(tenant, tmp_path):
    huge = json.dumps(sale("HUGE", product_id="p" * 6_000_000))
    f = tmp_path / "sales_lines.jsonl"
    write_jsonl(f, [sale("FIRST"), huge, sale("LAST")])
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())  # a byte order mark, as some editors write
    (r,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    assert r.ok and (r.counts.read, r.counts.applied, r.counts.rejected) == (3, 2, 1)
    with tenant.connect() as conn:
        assert row_set(conn, "SELECT txn_id FROM erp_sales_lines") == {("FIRST",), ("LAST",)}
        raw, reason = conn.execute("SELECT raw, reason FROM rejects").fetchone()
    assert reason == "product_id: longer than 200 characters (6000000)"
    assert raw.startswith(huge[:100]) and raw.endswith(f" ...[cut: {len(huge) + 1} bytes in all]")
    assert len(raw.encode()) < MAX_RAW_BYTES + 64


# --- issue 14: a hostile API --------------------------------------------------------------


def test_a_hostile_api_fails_each_entity_it_holds_and_the_others_load(tenant, erp, srv):
    erp.faults.drip_for["suppliers"] = 0.05  # a byte every 50 ms: no socket timeout ever trips
    erp.faults.huge_page_for["locations"] = 4 << 20
    erp.faults.cursor_loop.add("sales_lines")
    erp.faults.endless.add("invoice_lines")
    t0 = time.monotonic()
    res = api_load(tenant, srv, retry=RetryPolicy(attempts=2, backoff=0.001, timeout=5, deadline=0.5),
                   limits=PageLimits(max_page_bytes=1 << 20, max_empty_pages=30))
    assert time.monotonic() - t0 < 30
    assert {n for n, r in res.items() if r.ok} == {"products", "purchase_order_lines", "receipt_lines"}
    assert "timed out (no complete answer within 0.5 s)" in res["suppliers"].message
    assert "larger than 1,048,576 bytes" in res["locations"].message
    assert "next_cursor repeats one already followed" in res["sales_lines"].message
    assert "30 empty pages in a row" in res["invoice_lines"].message
    with tenant.connect() as conn:
        assert set(watermarks(conn)) == {"products", "purchase_order_lines", "receipt_lines"}
        # what the looping entity's real pages applied stays (applying is idempotent)
        assert scalar(conn, "SELECT count(*) FROM erp_sales_lines") == res["sales_lines"].counts.applied > 0
    # the tenant's load lock was let go: the next load starts at once
    erp.faults = Faults()
    assert all(r.ok for r in api_load(tenant, srv).values())


# --- issue 14 and 21: the database going away, signals -------------------------------------


def _loader_backends(url):
    with psycopg.connect(url, autocommit=True) as conn:
        return scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pyloader load' "
                            "AND datname = current_database()")


def test_a_database_that_goes_away_mid_load_ends_it_with_a_clear_error(tenant, erp, srv, monkeypatch):
    monkeypatch.setattr(load, "RECONNECT_SECONDS", 1.5, raising=False)
    erp.faults = Faults(slow_rate=1.0, slow_seconds=0.1)
    dbname = psycopg.conninfo.conninfo_to_dict(tenant.url)["dbname"]
    errors = []

    def run():
        try:
            api_load(tenant, srv, batch_size=50)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    with tenant.connect() as conn:
        deadline = time.monotonic() + 20
        while not scalar(conn, "SELECT count(*) FROM loads WHERE status = 'succeeded'"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # as after an immediate shutdown: the session dies and no new one is let in (superusers neither)
    with admin() as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(dbname)))
        try:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = 'pyloader load' AND datname = %s", (dbname,))
            t.join(timeout=30)
        finally:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(dbname)))
    (exc,) = errors
    assert isinstance(exc, load.ConnectionLost), repr(exc)
    assert "database connection was lost mid-load" in str(exc) and "within 1.5 s" in str(exc)
    assert "NoneType" not in str(exc)
    with tenant.connect() as conn:
        (running,) = conn.execute("SELECT load_id FROM loads WHERE status = 'running'").fetchone()
    # the next load finds the row the dead session left running, and says so
    res = load.load_api(tenant.client_id, srv.url, url=tenant.url, token=TOKEN, retry=FAST, entities=["products"])
    assert res[0].ok
    with tenant.connect() as conn:
        status, message = conn.execute("SELECT status, message FROM loads WHERE load_id = %s", (running,)).fetchone()
    assert status == "interrupted" and "its process ended before it finished" in message


class SalesBlock:
    """A session holding erp_sales_lines in SHARE mode: a load's sales merge waits, mid-transaction."""

    def __init__(self, tenant):
        self.url = tenant.url
        self.conn = psycopg.connect(tenant.url)
        self.conn.execute(sql.SQL("LOCK TABLE {}.erp_sales_lines IN SHARE MODE").format(
            sql.Identifier(tenant.schema)))

    def wait_for_the_loader(self, timeout=30):
        deadline = time.monotonic() + timeout
        # a session of its own: inside the lock's transaction the statistics views would not change
        with psycopg.connect(self.url, autocommit=True) as watch:
            while not scalar(watch, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pyloader load' "
                                    "AND wait_event_type = 'Lock'"):
                assert time.monotonic() < deadline, "the loader never reached the sales merge"
                time.sleep(0.05)

    def release(self):
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


@pytest.fixture
def blocked_sales(tenant):
    block = SalesBlock(tenant)
    yield block
    block.release()


def _sales_and_products(tmp_path):
    write_jsonl(tmp_path / "products.jsonl", [{"product_id": f"P{i}", "updated_at": T1} for i in range(5)])
    write_jsonl(tmp_path / "sales_lines.jsonl", [sale(f"T{i:05}") for i in range(3000)])


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_batch_marks_the_load_interrupted_and_leaves_no_half_batch(tenant, tmp_path, blocked_sales,
                                                                                 signum, status):
    _sales_and_products(tmp_path)
    env = dict(os.environ, DATABASE_URL=tenant.url)
    exe = os.path.join(os.path.dirname(sys.executable), "pyloader")
    proc = subprocess.Popen([exe, "load", tenant.client_id, "--files", str(tmp_path), "--batch-size", "1000",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        blocked_sales.wait_for_the_loader()  # the first sales batch is copied to staging and waits in its merge
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, err
    name = signal.Signals(signum).name
    *_, line = err.strip().splitlines()
    assert line.startswith(f"pyloader: load of acme stopped by {name} during sales_lines (load ")
    doc = json.loads(out)
    assert doc["status"] == "interrupted"
    assert [(e["entity"], e["status"]) for e in doc["entities"]] == [("products", "succeeded"),
                                                                      ("sales_lines", "interrupted")]
    with tenant.connect() as conn:
        assert [r[1:4] for r in loads_of(conn)] == [("products", "succeeded", 5), ("sales_lines", "interrupted", 0)]
        assert loads_of(conn)[1][4] == f"stopped by {name}"
        # the batch in flight was rolled back whole: no line, no count, no reject of it
        assert scalar(conn, "SELECT count(*) FROM erp_sales_lines") == 0
        assert scalar(conn, "SELECT count(*) FROM rejects") == 0


def test_a_load_killed_outright_is_reaped_by_the_next(tenant, tmp_path, blocked_sales):
    _sales_and_products(tmp_path)
    env = dict(os.environ, DATABASE_URL=tenant.url)
    exe = os.path.join(os.path.dirname(sys.executable), "pyloader")
    proc = subprocess.Popen([exe, "load", tenant.client_id, "--files", str(tmp_path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    blocked_sales.wait_for_the_loader()
    proc.kill()  # SIGKILL: no handler runs, the load row stays 'running'
    proc.wait(timeout=10)
    with tenant.connect() as conn:
        assert [r[2] for r in loads_of(conn)] == ["succeeded", "running"]
    blocked_sales.release()
    deadline = time.monotonic() + 20
    while _loader_backends(tenant.url):  # its backend notices the closed socket once the lock lets it go
        assert time.monotonic() < deadline
        time.sleep(0.05)
    res = pyloader("load", tenant.client_id, "--files", str(tmp_path), "--json", url=tenant.url)
    assert res.returncode == 0, res.stderr
    with tenant.connect() as conn:
        rows = loads_of(conn)
        assert [r[2] for r in rows] == ["succeeded", "interrupted", "succeeded", "succeeded"]
        assert "its process ended before it finished" in rows[1][4]
        assert scalar(conn, "SELECT count(*) FROM erp_sales_lines") == 3000
    assert json.loads(res.stdout)["reaped_loads"] == [rows[1][0]]
    assert f"load(s) {rows[1][0]} of acme had been left running by a process that died" in res.stderr


def test_cli_json_reports_every_count_per_entity(tenant, erp, srv, tmp_path):
    erp.faults.extra_records["products"] = [
        {"product_id": "P-FUTURE", "updated_at": "9999-12-31T00:00:00Z", "colour": "red"},
        {"product_id": "", "updated_at": T1, "colour": "blue", "size": 3},
    ]
    erp.faults.rate_limit_rate = 0.1
    env = {load.TOKEN_ENV: TOKEN}
    first = pyloader("load", tenant.client_id, "--api", srv.url, "--json", "--page-size", "100", url=tenant.url,
                     env=env)
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert (doc["client_id"], doc["status"], doc["source"], doc["reaped_loads"]) == (
        "acme", "succeeded", {"api": srv.url}, [])
    by = {e["entity"]: e for e in doc["entities"]}
    assert list(by) == list(ENTITY_ORDER)
    p = by["products"]
    assert set(p) == {"entity", "status", "source", "load_id", "read", "applied", "unchanged", "stale", "rejected",
                      "future_dated", "unknown_fields", "retries", "watermark_before", "watermark_after", "seconds",
                      "message"}
    n = erp.dataset.counts()["products"]
    assert (p["read"], p["applied"], p["rejected"], p["future_dated"]) == (n + 2, n + 1, 1, 1)
    assert p["unknown_fields"] == {"colour": 2, "size": 1}
    assert p["watermark_before"] is None
    assert dt.datetime.fromisoformat(p["watermark_after"]) == instant(erp.dataset.newest_us("products", 0))
    assert sum(e["retries"] for e in doc["entities"]) == erp.stats["rate_limited"] > 0
    # each retry was one line on stderr, with its reason
    assert first.stderr.count("HTTP 429 (rate limited)") == erp.stats["rate_limited"]
    second = json.loads(pyloader("load", tenant.client_id, "--api", srv.url, "--json", url=tenant.url,
                                 env=env).stdout)
    for e in second["entities"]:
        assert e["watermark_before"] == by[e["entity"]]["watermark_after"] == e["watermark_after"]
        assert e["applied"] == 0 and e["status"] == "succeeded"

    # files: no watermark, the same shape
    write_jsonl(tmp_path / "suppliers.jsonl", [{"supplier_id": "S1", "updated_at": T1}])
    files = json.loads(pyloader("load", tenant.client_id, "--files", str(tmp_path), "--json", url=tenant.url).stdout)
    (s,) = files["entities"]
    assert (s["entity"], s["applied"], s["watermark_before"], s["watermark_after"]) == ("suppliers", 1, None, None)


def test_a_file_of_rejects_fails_its_entity_and_the_command(tenant, tmp_path):
    # a CSV file named .jsonl: every line a reject
    (tmp_path / "products.jsonl").write_text("product_id,name,updated_at\n" + "".join(
        f"P{i},Tea,{T1}\n" for i in range(20)))
    write_jsonl(tmp_path / "locations.jsonl", [{"location_id": "L1", "updated_at": T1}])
    res = pyloader("load", tenant.client_id, "--files", str(tmp_path), "--json", url=tenant.url)
    assert res.returncode == 1
    (line,) = res.stderr.strip().splitlines()
    assert "products: 21 of 21 records rejected (100%), more than the 50% --max-reject-rate allows" in line
    doc = json.loads(res.stdout)
    assert doc["status"] == "failed"
    assert [(e["entity"], e["status"]) for e in doc["entities"]] == [("products", "failed"),
                                                                      ("locations", "succeeded")]
    # a tolerant caller may say so
    ok = pyloader("load", tenant.client_id, "--files", str(tmp_path), "--max-reject-rate", "1", url=tenant.url)
    assert ok.returncode == 0, ok.stderr
    bad = pyloader("load", tenant.client_id, "--files", str(tmp_path), "--max-reject-rate", "2", url=tenant.url)
    assert bad.returncode == 2 and "--max-reject-rate must be 0..1" in bad.stderr


def test_progress_on_a_terminal_has_a_total_and_an_eta_for_files(tenant, tmp_path):
    write_jsonl(tmp_path / "sales_lines.jsonl", [sale(f"T{i:05}") for i in range(5000)])
    proc, tty = pyloader_on_a_terminal("load", tenant.client_id, "--files", str(tmp_path), "--batch-size", "500",
                                       env={"DATABASE_URL": tenant.url, "COLUMNS": "160"})
    assert proc.returncode == 0, tty
    assert "sales_lines" in tty and "100%" in tty and "5,000 records" in tty and "0:00:00" in tty
