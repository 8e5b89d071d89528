"""What the in-memory baselines share (bench/pandas_baseline.py,
bench/polars_baseline.py): the ERP lines they read and how (COPY ... CSV of
every line table, tombstones included), the end week, the command line and
the JSON report. Each reads the CSV and computes the master file its own way,
so the two are timed on the same work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import time
from typing import Callable

import psycopg
from psycopg import sql

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:54329/masterfile"

# name (compute_master_file's argument): (table, columns read, date columns, text columns);
# every other column but line_no is a number
LINE_TABLES = {
    "sales": (
        "erp_sales_lines",
        ["txn_id", "line_no", "product_id", "location_id", "business_date", "qty", "net_amount"],
        ["business_date"],
        ["txn_id", "product_id", "location_id"],
    ),
    "receipts": (
        "erp_receipt_lines",
        ["receipt_id", "line_no", "po_id", "product_id", "location_id", "received_date", "qty_received"],
        ["received_date"],
        ["receipt_id", "po_id", "product_id", "location_id"],
    ),
    "purchase_orders": (
        "erp_purchase_order_lines",
        ["po_id", "line_no", "supplier_id", "product_id", "location_id", "order_date", "expected_date",
         "qty_ordered", "unit_cost", "status"],
        ["order_date", "expected_date"],
        ["po_id", "supplier_id", "product_id", "location_id", "status"],
    ),
    "invoices": (
        "erp_invoice_lines",
        ["invoice_id", "line_no", "po_id", "product_id", "location_id", "invoice_date", "qty_invoiced",
         "line_amount"],
        ["invoice_date"],
        ["invoice_id", "po_id", "product_id", "location_id"],
    ),
}

# read(csv, columns, dates, texts) -> a frame of the table, `deleted` a boolean column
ReadTable = Callable[[io.BytesIO, list[str], list[str], list[str]], object]


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every baseline takes; a baseline may add its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", DEFAULT_DSN))
    parser.add_argument("--schema", required=True, help="tenant schema, e.g. t_acme")
    parser.add_argument("--end-week", type=dt.date.fromisoformat, default=None,
                        help="a Monday; default: from the tenant's settings.as_of_date")
    return parser


def copy_csv(conn: psycopg.Connection, schema: str, table: str, columns: list[str]) -> io.BytesIO:
    """Every row of one line table as CSV with a header (tombstones included,
    `deleted` as t/f, never null), in memory."""
    query = sql.SQL("COPY (SELECT {columns}, coalesce(deleted, false) AS deleted FROM {table}) "
                    "TO STDOUT WITH (FORMAT csv, HEADER true)").format(
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        table=sql.Identifier(schema, table),
    )
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(query) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    return buffer


def default_end_week(conn: psycopg.Connection, schema: str) -> dt.date:
    """The Monday of the week before the tenant's as_of_date (today when null)."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT as_of_date FROM {}").format(sql.Identifier(schema, "settings")))
        row = cur.fetchone()
    as_of = (row[0] if row else None) or dt.date.today()
    return as_of - dt.timedelta(days=as_of.weekday() + 7)


def run(dsn: str, schema: str, end_week: dt.date | None, read: ReadTable,
        compute: Callable[[dict, dt.date], object], timings: dict | None = None):
    """compute(lines, end_week) over the four line tables of `schema`, each
    read whole with `read`. `timings`, when given, receives end_week, the line
    counts, load_seconds (COPY and parsing) and compute_seconds."""
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.read_only = True
        if end_week is None:
            end_week = default_end_week(conn, schema)
        lines = {name: read(copy_csv(conn, schema, table, columns), columns, dates, texts)
                 for name, (table, columns, dates, texts) in LINE_TABLES.items()}
    loaded = time.perf_counter()
    result = compute(lines, end_week)
    if timings is not None:
        timings |= {
            "end_week": end_week.isoformat(),
            "lines": {name: len(frame) for name, frame in lines.items()},
            "load_seconds": round(loaded - started, 3),
            "compute_seconds": round(time.perf_counter() - loaded, 3),
        }
    return result


def report(timings: dict, started: float, rows: int, keys: int) -> None:
    """Print the run's one JSON document: `timings`, rows and keys computed,
    wall seconds since `started` (perf_counter) and the process's peak RSS."""
    timings |= {
        "rows": rows,
        "keys": keys,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),  # Linux: KiB
    }
    print(json.dumps(timings))
