"""Deterministic ERP lines for tests, written the way the loader writes them
(as the tenant's loader role), and read back for the reference implementation."""
from __future__ import annotations

import datetime as dt
import math
import random

import pandas as pd
import psycopg
from psycopg import sql

LINE_TABLES = {
    "erp_sales_lines": (["txn_id", "line_no"], "business_date",
                        ["product_id", "location_id", "business_date", "qty", "net_amount"]),
    "erp_receipt_lines": (["receipt_id", "line_no"], "received_date",
                          ["po_id", "product_id", "location_id", "received_date", "qty_received"]),
    "erp_purchase_order_lines": (["po_id", "line_no"], "order_date",
                                 ["supplier_id", "product_id", "location_id", "order_date", "expected_date",
                                  "qty_ordered", "unit_cost", "status"]),
    "erp_invoice_lines": (["invoice_id", "line_no"], "invoice_date",
                          ["po_id", "product_id", "location_id", "invoice_date", "qty_invoiced", "line_amount"]),
}
REFERENCE_ARGS = ["erp_sales_lines", "erp_receipt_lines", "erp_purchase_order_lines", "erp_invoice_lines"]
UPDATED_AT = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def generate(seed: int, *, products: int = 4, locations: int = 3, start: dt.date = dt.date(2024, 1, 3),
             days: int = 560) -> dict[str, list[dict]]:
    """Lines with returns, gaps, cancelled orders, tied invoices and keys that start mid-history."""
    rnd = random.Random(seed)
    out: dict[str, list[dict]] = {t: [] for t in LINE_TABLES}
    for p in range(products):
        for l in range(locations):
            pid, lid = f"P{p}", f"L{l}"
            if rnd.random() < 0.15:
                continue  # not every pair is a key
            first = rnd.randrange(0, days // 2)  # keys start mid-history
            density = rnd.choice([0.05, 0.3, 0.8])
            for d in range(first, days):
                day = start + dt.timedelta(days=d)
                if rnd.random() < density / 3:
                    qty = rnd.choice([1, 1, 2, 3, 5, -1]) * rnd.choice([1, 1, 1, 2.5])
                    out["erp_sales_lines"].append(dict(
                        txn_id=f"S{len(out['erp_sales_lines'])}", line_no=rnd.randint(1, 3), product_id=pid,
                        location_id=lid, business_date=day, qty=qty, net_amount=round(qty * rnd.uniform(1, 9), 2)))
                if rnd.random() < density / 20:
                    out["erp_receipt_lines"].append(dict(
                        receipt_id=f"R{len(out['erp_receipt_lines'])}", line_no=1, po_id=None, product_id=pid,
                        location_id=lid, received_date=day, qty_received=rnd.randint(1, 40)))
                if rnd.random() < density / 25:
                    out["erp_purchase_order_lines"].append(dict(
                        po_id=f"O{len(out['erp_purchase_order_lines'])}", line_no=1, supplier_id="SUP1",
                        product_id=pid, location_id=lid, order_date=day, expected_date=day + dt.timedelta(days=7),
                        qty_ordered=rnd.randint(1, 50), unit_cost=2.5,
                        status=rnd.choice(["open", "closed", "cancelled"])))
                if rnd.random() < density / 25:
                    # tied dates and ids that sort differently as bytes and as text
                    for inv in rnd.sample(["a", "B", "10", "9", "Z1"], rnd.randint(1, 3)):
                        qty = rnd.choice([0, 1, 4, 10])
                        out["erp_invoice_lines"].append(dict(
                            invoice_id=f"{inv}", line_no=len(out["erp_invoice_lines"]), po_id=None,
                            product_id=pid, location_id=lid, invoice_date=day, qty_invoiced=qty,
                            line_amount=round(qty * rnd.uniform(1.5, 3.5), 2)))
    return out


def insert(conn: psycopg.Connection, table: str, rows: list[dict], *, updated_at=UPDATED_AT) -> None:
    """INSERT rows as they are (the caller's role and transaction)."""
    if not rows:
        return
    cols = list(rows[0]) + ["updated_at"]
    q = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.SQL(", ").join(sql.Placeholder() * len(cols)))
    with conn.cursor() as cur:
        cur.executemany(q, [[r[c] for c in cols[:-1]] + [updated_at] for r in rows])


def read_lines(conn: psycopg.Connection) -> list[pd.DataFrame]:
    """The four line tables as DataFrames, in compute_master_file's argument order."""
    frames = []
    for table in REFERENCE_ARGS:
        cur = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
        frames.append(pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description]))
    return frames


def master_file(conn: psycopg.Connection, columns: list[str]) -> pd.DataFrame:
    cur = conn.execute(sql.SQL("SELECT {} FROM master_file ORDER BY product_id COLLATE \"C\", location_id COLLATE \"C\", week_start").format(
        sql.SQL(", ").join(map(sql.Identifier, columns))))
    return pd.DataFrame(cur.fetchall(), columns=columns)


def assert_frames_close(got: pd.DataFrame, want: pd.DataFrame, *, rel: float = 1e-9, abs_: float = 1e-9) -> None:
    """Every figure equal within the checker's tolerance; null where null."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want), f"{len(got)} rows, want {len(want)}"
    keys = ["product_id", "location_id", "week_start"]
    for c in keys:
        assert list(got[c]) == list(want[c]), c
    problems = []
    for c in got.columns:
        if c in keys:
            continue
        for n, (a, b) in enumerate(zip(got[c], want[c])):
            a_null = a is None or (isinstance(a, float) and math.isnan(a))
            b_null = b is None or (isinstance(b, float) and math.isnan(b))
            if a_null or b_null:
                if a_null != b_null:
                    problems.append((c, n, a, b))
                continue
            a, b = float(a), float(b)
            if not (abs(a - b) <= abs_ or abs(a - b) <= rel * max(abs(a), abs(b))):
                problems.append((c, n, a, b))
    if problems:
        c, n, a, b = problems[0]
        raise AssertionError(f"{len(problems)} figures differ; first: {c} at row {n} "
                             f"({tuple(got.loc[n, keys])}): got {a!r}, want {b!r}")
