"""`pyloader load CLIENT --files DIR`: streaming, idempotent, every bad record
rejected beside the good ones applied (issue 3)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from psycopg import sql

from pyloader import load
from pyloader.fake_erp import Dataset, iter_records, write_files
from pyloader.normalize import ENTITY_ORDER, MAX_ID_CHARS, entity
from tests.conftest import CITUS, pyloader, row_set, scalar

T0 = "2025-01-01T00:00:00Z"
T1 = "2025-01-02T00:00:00Z"
T2 = "2025-01-03T00:00:00Z"


def sale(txn="T1", line=1, updated_at=T1, **kw):
    rec = {"txn_id": txn, "line_no": line, "product_id": "P1", "location_id": "L1", "business_date": "2025-01-01",
           "qty": 1, "net_amount": 2.5, "updated_at": updated_at}
    rec.update(kw)
    return rec


def write_jsonl(path, records):
    with open(path, "w") as fh:
        for r in records:
            fh.write(r if isinstance(r, str) else json.dumps(r))
            fh.write("\n")


def loads_rows(conn):
    return conn.execute(
        "SELECT entity, status, read_count, applied_count, unchanged_count, stale_count, rejected_count, message "
        "FROM loads ORDER BY load_id"
    ).fetchall()


def stored(conn, table, cols="*"):
    return conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY 1, 2").format(sql.SQL(cols), sql.Identifier(table))).fetchall()


def xmins(conn, ent):
    keys = sql.SQL(", ").join(map(sql.Identifier, ent.key_names))
    return row_set(conn, sql.SQL("SELECT xmin::text, {} FROM {}").format(keys, sql.Identifier(ent.table)))


def test_loads_every_format_and_a_replay_writes_no_row(tenant, tmp_path):
    ds = Dataset(4, "small")
    for fmt in ("jsonl", "csv", "parquet"):
        write_files(ds, tmp_path / fmt, fmt)
    res = load.load_files(tenant.client_id, tmp_path / "jsonl", url=tenant.url, batch_size=500)
    counts = ds.counts()
    assert [(r.entity, r.status, r.counts.read, r.counts.applied) for r in res] == [
        (n, "succeeded", counts[n], counts[n]) for n in ENTITY_ORDER]
    with tenant.connect() as conn:
        for name in ENTITY_ORDER:
            ent = entity(name)
            assert scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(ent.table))) == counts[name]
        before = {n: xmins(conn, entity(n)) for n in ENTITY_ORDER}
        # the same records again, from each format: nothing is written
        for fmt in ("jsonl", "csv", "parquet"):
            again = load.load_files(tenant.client_id, tmp_path / fmt, url=tenant.url, batch_size=500)
            assert all(r.ok and r.counts.applied == 0 and r.counts.unchanged == counts[r.entity] for r in again)
        assert {n: xmins(conn, entity(n)) for n in ENTITY_ORDER} == before
        # every load is recorded, with read = applied + unchanged + stale + rejected
        rows = loads_rows(conn)
        assert len(rows) == 4 * len(ENTITY_ORDER)
        assert all(r[1] == "succeeded" and r[2] == sum(r[3:7]) for r in rows)


def test_stored_values_are_the_records(tenant, tmp_path):
    ds = Dataset(4, "tiny")
    write_files(ds, tmp_path, "jsonl", generation=1)
    assert all(r.ok for r in load.load_files(tenant.client_id, tmp_path, url=tenant.url))
    with tenant.connect() as conn:
        got = stored(conn, "erp_sales_lines",
                     "txn_id, line_no, product_id, location_id, business_date::text, qty::float8, net_amount::float8, "
                     "updated_at, deleted")
    want = sorted(
        (r["txn_id"], r["line_no"], r["product_id"], r["location_id"], r["business_date"], float(r["qty"]),
         float(r["net_amount"]), dt.datetime.fromisoformat(r["updated_at"]), bool(r.get("deleted")))
        for _, r in iter_records(ds, "sales_lines", 1)
    )
    assert got == want
    assert any(row[-1] for row in got)  # generation 1 carries a tombstone


def test_each_bad_record_is_rejected_beside_the_good_ones(tenant, tmp_path):
    good = [sale(f"G{i}") for i in range(5)]
    bad = {
        "{not json": "not JSON",
        json.dumps(sale("B1", txn_id=None)): "missing key field txn_id",
        json.dumps(sale("B2", txn_id="")): "empty key field txn_id",
        json.dumps(sale("B3", business_date="2025-02-30")): "business_date: impossible date (2025-02-30)",
        json.dumps(sale("B4", qty="lots")): "qty: a string where a number belongs",
        '{"txn_id": "B5", "line_no": 1, "product_id": "P1", "location_id": "L1", "business_date": "2025-01-01", '
        f'"qty": NaN, "updated_at": "{T1}"}}': "qty: not a finite number",
        '{"txn_id": "B6", "line_no": 1, "product_id": "P1", "location_id": "L1", "business_date": "2025-01-01", '
        f'"qty": Infinity, "updated_at": "{T1}"}}': "qty: not a finite number",
        json.dumps(sale("B7", net_amount="12.5")): "net_amount: a string where a number belongs",
        json.dumps(sale("B8", product_id="x" * (MAX_ID_CHARS + 1))): "product_id: longer than 200 characters",
        json.dumps(sale("B9", product_id=None)): "line lacks product_id",
        json.dumps(sale("B10", location_id="")): "empty field location_id",
        json.dumps(sale("B11", business_date=None)): "line lacks business_date",
        json.dumps([1, 2, 3]): "not a JSON object",
        json.dumps(sale("B12", line_no=2**40)): "line_no: out of range",
        json.dumps(sale("B13", location_id="L\u0000")): "location_id: contains a NUL character",
    }
    extra = sale("G9", colour="red", warehouse={"nested": True})  # unknown fields are counted, not stored
    lines = [good[0], *bad, good[1], good[2], extra, good[3], good[4]]
    write_jsonl(tmp_path / "sales_lines.jsonl", lines)
    po = {"po_id": "PO1", "line_no": 1, "product_id": "P1", "location_id": "L1", "order_date": "2025-01-01",
          "status": "misplaced", "updated_at": T1}
    write_jsonl(tmp_path / "purchase_order_lines.jsonl", [po, dict(po, po_id="PO2", status="open")])

    # most of these lines are rejects: allowed here, where the test wants each one's reason
    (pos, sales) = load.load_files(tenant.client_id, tmp_path, url=tenant.url, max_reject_rate=1.0)  # contract order
    assert sales.ok and pos.ok
    assert sales.unknown_fields == {"colour": 1, "warehouse": 1}
    assert (sales.counts.read, sales.counts.applied, sales.counts.rejected) == (len(lines), 6, len(bad))
    assert (pos.counts.applied, pos.counts.rejected) == (1, 1)
    with tenant.connect() as conn:
        assert {r[0] for r in stored(conn, "erp_sales_lines")} == {"G0", "G1", "G2", "G3", "G4", "G9"}
        rejects = conn.execute("SELECT entity, raw, reason, load_id FROM rejects ORDER BY reject_id").fetchall()
    by_raw = {raw: reason for ent, raw, reason, _ in rejects if ent == "sales_lines"}
    for raw, expected in bad.items():
        assert by_raw[raw.replace("\x00", "\\u0000")].startswith(expected), (raw[:60], by_raw.get(raw))
    assert [r[2] for r in rejects if r[0] == "purchase_order_lines"] == [
        "status: unknown value 'misplaced' (expected open or closed or cancelled)"]
    assert {r[3] for r in rejects if r[0] == "sales_lines"} == {sales.load_id}


def test_csv_rejects_keep_the_raw_csv_line(tenant, tmp_path):
    (tmp_path / "products.csv").write_text(
        "product_id,name,unit_cost,updated_at,surprise\n"
        f"P1,Tea,1.5,{T1},x\n"
        f"P2,Cake,cheap,{T1},y\n"
        f",Nothing,1,{T1},z\n"
        f'P3,"Milk, whole",2,{T1},\n'
    )
    (res,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    assert (res.counts.applied, res.counts.rejected) == (2, 2)
    with tenant.connect() as conn:
        assert stored(conn, "erp_products", "product_id, name, unit_cost::text") == [
            ("P1", "Tea", "1.5"), ("P3", "Milk, whole", "2")]
        assert conn.execute("SELECT raw, reason FROM rejects ORDER BY reject_id").fetchall() == [
            (f"P2,Cake,cheap,{T1},y", "unit_cost: not a number ('cheap')"),
            (f",Nothing,1,{T1},z", "missing key field product_id"),
        ]


def test_newest_wins_within_a_batch_and_stale_records_are_skipped(tenant, tmp_path):
    f = tmp_path / "sales_lines.jsonl"
    write_jsonl(f, [sale(qty=1, updated_at=T1), sale(qty=3, updated_at=T2), sale(qty=2, updated_at=T0),
                    sale(qty=3, updated_at=T2)])
    (r,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    assert (r.counts.applied, r.counts.unchanged, r.counts.stale) == (1, 1, 2)
    with tenant.connect() as conn:
        assert stored(conn, "erp_sales_lines", "txn_id, qty::int") == [("T1", 3)]
        before = xmins(conn, entity("sales_lines"))
        # an older version arriving later is stale and writes nothing
        write_jsonl(f, [sale(qty=9, updated_at=T1)])
        (r,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
        assert (r.counts.applied, r.counts.stale) == (0, 1)
        assert xmins(conn, entity("sales_lines")) == before
        assert stored(conn, "erp_sales_lines", "txn_id, qty::int") == [("T1", 3)]


def test_keys_below_and_above_the_largest_stored_key_are_classified_alike(tenant, tmp_path):
    # keys above the largest stored one skip the merge's probe; a late key
    # below it, a newer version and a replay take it, and all end up the same
    f = tmp_path / "sales_lines.jsonl"
    write_jsonl(f, [sale("T2", line=1), sale("T2", line=3), sale("T4")])
    load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    write_jsonl(f, [sale("T1"), sale("T2", line=2), sale("T2", line=3, qty=7, updated_at=T2), sale("T4"),
                    sale("T2", line=4), sale("T5", line=1), sale("T5", line=2, updated_at=T0)])
    (r,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    assert (r.counts.read, r.counts.applied, r.counts.unchanged, r.counts.stale) == (7, 6, 1, 0)
    with tenant.connect() as conn:
        assert stored(conn, "erp_sales_lines", "txn_id, line_no, qty::int") == [
            ("T1", 1, 1), ("T2", 1, 1), ("T2", 2, 1), ("T2", 3, 7), ("T2", 4, 1), ("T4", 1, 1), ("T5", 1, 1),
            ("T5", 2, 1)]


def test_the_reader_waits_while_the_database_thread_talks_only_when_ahead():
    turn = load.ReaderTurn()
    with turn.talking():
        assert turn.may_run()  # nothing read ahead: the reader must go on
    turn.ahead = lambda: True
    with turn.talking():
        assert not turn.may_run()
        with turn.waiting():
            assert turn.may_run()  # the merge is the reader's time
        assert not turn.may_run()
    assert turn.may_run()
    with pytest.raises(RuntimeError), turn.talking():
        raise RuntimeError
    assert turn.may_run()


def test_tombstones_soft_delete_and_keep_what_they_leave_out(tenant, tmp_path):
    f = tmp_path / "products.jsonl"
    write_jsonl(f, [{"product_id": "P1", "name": "Tea", "status": "active", "unit_cost": 2, "updated_at": T0},
                    {"product_id": "P2", "deleted": True, "updated_at": T0}])  # a tombstone for a key never seen
    load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    write_jsonl(f, [{"product_id": "P1", "deleted": True, "updated_at": T1}])
    (r,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    assert r.counts.applied == 1
    with tenant.connect() as conn:
        assert stored(conn, "erp_products", "product_id, name, status, unit_cost::int, deleted") == [
            ("P1", "Tea", "active", 2, True), ("P2", None, None, None, True)]
    # a newer live record brings the row back
    write_jsonl(f, [{"product_id": "P1", "name": "Green tea", "updated_at": T2}])
    load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    with tenant.connect() as conn:
        assert stored(conn, "erp_products", "product_id, name, status, deleted")[0] == ("P1", "Green tea", None, False)


def test_a_line_naming_unknown_products_is_kept(tenant, tmp_path):
    write_jsonl(tmp_path / "sales_lines.jsonl", [sale(product_id="P-NEW", location_id="L-NEW")])
    (r,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    assert r.counts.applied == 1


def test_an_unreadable_file_fails_its_entity_only(tenant, tmp_path):
    write_jsonl(tmp_path / "products.jsonl", [{"product_id": "P1", "updated_at": T0}])
    (tmp_path / "sales_lines.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "locations.csv").write_text("name,region\nx,y\n")  # no key column: nothing can be read
    res = {r.entity: r for r in load.load_files(tenant.client_id, tmp_path, url=tenant.url)}
    assert res["products"].ok
    assert not res["sales_lines"].ok and "sales_lines.parquet" in res["sales_lines"].message
    assert "not a readable Parquet file" in res["sales_lines"].message
    assert not res["locations"].ok and "header has no location_id column" in res["locations"].message
    with tenant.connect() as conn:
        assert row_set(conn, "SELECT entity, status FROM loads") == {
            ("products", "succeeded"), ("sales_lines", "failed"), ("locations", "failed")}
        assert scalar(conn, "SELECT count(*) FROM watermarks") == 0  # files never move the API's watermarks


def test_a_record_the_database_refuses_is_found_and_rejected_alone(tenant, tmp_path, monkeypatch):
    # the normaliser should let nothing through that the table refuses; if it
    # ever did, the batch is split until the guilty line stands alone
    from pyloader import normalize

    real = normalize.Normalizer.row

    def sloppy(self, record, seq):
        line = real(self, record, seq)
        return line.replace(b"2026-01-01", b"2026-99-99")

    monkeypatch.setattr(normalize.Normalizer, "row", sloppy)
    write_jsonl(tmp_path / "sales_lines.jsonl",
                [sale(f"T{i}", business_date="2026-01-01" if i == 5 else "2025-01-01") for i in range(12)])
    (r,) = load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    assert r.ok and (r.counts.applied, r.counts.rejected) == (11, 1)
    with tenant.connect() as conn:
        (reason,) = conn.execute("SELECT reason FROM rejects").fetchone()
        assert reason.startswith("refused by the database:")
        assert scalar(conn, "SELECT read_count FROM loads") == 12


def test_a_key_inserted_behind_the_loaders_back_is_retried_not_lost(tenant, tmp_path):
    """New keys go in by plain INSERT; if another writer adds one between the
    merge's probe and its insert, the batch is retried and becomes an update."""
    import threading
    import time

    import psycopg

    write_jsonl(tmp_path / "sales_lines.jsonl", [sale("T1", qty=5, updated_at=T2), sale("T2")])
    with psycopg.connect(tenant.url) as other:
        other.execute(sql.SQL("INSERT INTO {}.erp_sales_lines (txn_id, line_no, product_id, location_id, "
                              "business_date, qty, updated_at) VALUES ('T1', 1, 'P1', 'L1', '2025-01-01', 1, %s)")
                      .format(sql.Identifier(tenant.schema)), (T0,))
        results = []
        loader = threading.Thread(target=lambda: results.extend(load.load_files(tenant.client_id, tmp_path,
                                                                                url=tenant.url)))
        loader.start()
        deadline = time.monotonic() + 20
        # on Citus the loader's statement waits on the tenant's worker, which citus_lock_waits shows
        waiting = ("SELECT count(*) FROM citus_lock_waits" if CITUS else
                   "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pyloader load' "
                   "AND wait_event_type = 'Lock'")
        with psycopg.connect(tenant.url, autocommit=True) as watch:
            while not scalar(watch, waiting):
                assert time.monotonic() < deadline, "the loader never waited on the other insert"
                time.sleep(0.05)
        other.commit()
    loader.join(timeout=30)
    (r,) = results
    assert r.ok and (r.counts.read, r.counts.applied) == (2, 2)
    with tenant.connect() as conn:
        assert stored(conn, "erp_sales_lines", "txn_id, qty::int") == [("T1", 5), ("T2", 1)]
        assert scalar(conn, "SELECT applied_count FROM loads") == 2  # the failed try left no count behind


def test_the_loader_role_is_the_one_writing(tenant, tmp_path):
    write_jsonl(tmp_path / "suppliers.jsonl", [{"supplier_id": "S1", "lead_time_days": 4, "updated_at": T0}])
    load.load_files(tenant.client_id, tmp_path, url=tenant.url)
    with tenant.connect("ui") as conn:
        with pytest.raises(Exception, match="permission denied"):
            conn.execute("UPDATE erp_suppliers SET lead_time_days = 1")


def test_a_second_load_of_the_same_tenant_waits_its_turn(tenant, tmp_path):
    write_jsonl(tmp_path / "products.jsonl", [{"product_id": "P1", "updated_at": T0}])
    with load.TenantLoader(tenant.client_id, tenant.url) as first:
        with pytest.raises(load.LoadError, match="another load of tenant 'acme' is running"):
            load.load_files(tenant.client_id, tmp_path, url=tenant.url)
        assert first.schema == tenant.schema
    assert load.load_files(tenant.client_id, tmp_path, url=tenant.url)[0].ok


# --- the command line -------------------------------------------------------------------


def test_cli_loads_files_and_reports_each_entity(tenant, tmp_path):
    write_files(Dataset(1, "tiny"), tmp_path, "csv")
    res = pyloader("load", tenant.client_id, "--files", str(tmp_path), url=tenant.url)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no progress line when stderr is not a terminal
    assert [line.split()[:2] for line in res.stdout.splitlines()] == [[n, "succeeded"] for n in ENTITY_ORDER]


def test_cli_failure_is_one_line_and_non_zero(tenant, tmp_path):
    (tmp_path / "sales_lines.parquet").write_bytes(b"garbage")
    res = pyloader("load", tenant.client_id, "--files", str(tmp_path), url=tenant.url)
    assert res.returncode == 1
    assert len(res.stderr.strip().splitlines()) == 1
    assert "sales_lines" in res.stderr and "Parquet" in res.stderr

    res = pyloader("load", "nobody", "--files", str(tmp_path), url=tenant.url)
    assert res.returncode == 1 and res.stderr.strip().splitlines() == [
        "pyloader: unknown tenant 'nobody' (create it with `pyloader tenant create nobody`)"]

    res = pyloader("load", "bad id!", "--files", str(tmp_path), url=tenant.url)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1

    res = pyloader("load", tenant.client_id, "--files", str(tmp_path / "missing"), url=tenant.url)
    assert res.returncode == 1 and "not a directory" in res.stderr
