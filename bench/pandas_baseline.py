"""The old batch pipeline, as a baseline: load every ERP line of one tenant into
memory and recompute the whole master file with pandas.

    python bench/pandas_baseline.py --schema t_acme [--end-week 2024-06-03]

prints one JSON document: rows, keys, lines read, load / compute / wall
seconds and peak RSS. Reads only; DATABASE_URL (or --dsn) names the cluster.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import sql

# Run as a script, the repository root is not on sys.path; the reference lives in tests/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.reference.features import compute_master_file  # noqa: E402

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:54329/masterfile"

# name: (table, columns read, date columns, text columns)
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


def read_table(conn: psycopg.Connection, schema: str, table: str, columns: list[str],
               dates: list[str], texts: list[str]) -> pd.DataFrame:
    """Every row of one line table (tombstones included, with `deleted`), via COPY."""
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
    return pd.read_csv(
        buffer,
        dtype={c: str for c in texts} | {"line_no": "int64"},
        parse_dates=dates,
        true_values=["t"],
        false_values=["f"],
        keep_default_na=False,  # an id such as 'NA' stays text; only an empty field is null
        na_values=[""],
        float_precision="round_trip",  # numeric text to the nearest double, as float(Decimal) does
    )


def load_lines(conn: psycopg.Connection, schema: str) -> dict[str, pd.DataFrame]:
    """The four ERP line tables of a tenant schema, whole, keyed by the
    compute_master_file argument names."""
    return {name: read_table(conn, schema, *spec) for name, spec in LINE_TABLES.items()}


def default_end_week(conn: psycopg.Connection, schema: str) -> dt.date:
    """The Monday of the week before the tenant's as_of_date (today when null)."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT as_of_date FROM {}").format(sql.Identifier(schema, "settings")))
        row = cur.fetchone()
    as_of = (row[0] if row else None) or dt.date.today()
    return as_of - dt.timedelta(days=as_of.weekday() + 7)


def run_baseline(dsn: str, schema: str, end_week, timings: dict | None = None) -> pd.DataFrame:
    """The master file's 77 feature columns for every key of `schema`, the old
    way: all lines in memory, everything recomputed. `timings`, when given,
    receives load_seconds, compute_seconds and the line counts."""
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.read_only = True
        if end_week is None:
            end_week = default_end_week(conn, schema)
        lines = load_lines(conn, schema)
    loaded = time.perf_counter()
    result = compute_master_file(end_week=end_week, **lines)
    if timings is not None:
        timings |= {
            "end_week": str(pd.Timestamp(end_week).date()),
            "lines": {name: len(frame) for name, frame in lines.items()},
            "load_seconds": round(loaded - started, 3),
            "compute_seconds": round(time.perf_counter() - loaded, 3),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", DEFAULT_DSN))
    parser.add_argument("--schema", required=True, help="tenant schema, e.g. t_acme")
    parser.add_argument("--end-week", type=dt.date.fromisoformat, default=None,
                        help="a Monday; default: from the tenant's settings.as_of_date")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    timings: dict = {"schema": args.schema}
    result = run_baseline(args.dsn, args.schema, args.end_week, timings)
    timings |= {
        "rows": len(result),
        "keys": int(result[["product_id", "location_id"]].drop_duplicates().shape[0]),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),  # Linux: KiB
    }
    print(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
