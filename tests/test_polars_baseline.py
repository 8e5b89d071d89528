"""The polars baseline (bench/polars_baseline.py, the yardstick of issue 17's
rebuild target) computes the master file of the independent reference
(tests/reference/features.py) to 1e-9 on every column: run as the bench runs
it, on a small tenant, and in memory on the reference's random edge cases.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from bench import polars_features
from tests import lines
from tests.reference.features import FEATURE_COLUMNS, compute_master_file
from tests.test_features import AS_OF, end_week
from tests.test_reference import (
    INVOICE_COLUMNS,
    PO_COLUMNS,
    RECEIPT_COLUMNS,
    SALES_COLUMNS,
    assert_master_files_match,
    frame,
    random_erp,
)

ROOT = Path(__file__).resolve().parents[1]
LATER = lines.UPDATED_AT + dt.timedelta(days=1)


def as_reference(mf: pl.DataFrame) -> pd.DataFrame:
    """A polars master file as the reference gives it: week_start as dates, NaN for null."""
    out = mf.to_pandas()
    out["week_start"] = mf["week_start"].to_list()
    return out


@pytest.fixture
def loaded(tenant):
    """Lines as test_features makes them (on more keys), with the cases of its incremental test:
    a tombstone, a hard delete, lines before a key's first week and after
    end_week, an invoice line with no amount, an id that reads as null."""
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    edge_cases = {
        "erp_sales_lines": [
            dict(txn_id=txn, line_no=1, product_id=product, location_id="L0", business_date=day, qty=2, net_amount=5)
            for txn, product, day in (("NA", "P2", dt.date(2023, 12, 20)), ("FUTURE", "FUTP", dt.date(2025, 9, 1)))],
        "erp_invoice_lines": [dict(invoice_id="zz", line_no=1, po_id=None, product_id="P1", location_id="L1",
                                   invoice_date=dt.date(2025, 2, 5), qty_invoiced=5, line_amount=None)],
    }
    with tenant.connect("loader") as conn:
        for table, rows in lines.generate(7, products=8, locations=4).items():
            lines.insert(conn, table, rows)
        for table, rows in edge_cases.items():
            lines.insert(conn, table, rows, updated_at=LATER)
        conn.execute("UPDATE erp_receipt_lines SET deleted = true, updated_at = %s "
                     "WHERE receipt_id = (SELECT min(receipt_id) FROM erp_receipt_lines)", (LATER,))
    with tenant.connect() as conn:
        conn.execute("DELETE FROM erp_invoice_lines WHERE ctid = (SELECT min(ctid) FROM erp_invoice_lines)")
    return tenant


def run_script(script: str, tenant, *args: str) -> dict:
    res = subprocess.run([sys.executable, f"bench/{script}", "--dsn", tenant.url, "--schema", tenant.schema, *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_polars_baseline_matches_the_reference_on_a_tenant(loaded, tmp_path):
    out = tmp_path / "mf.parquet"
    report = run_script("polars_baseline.py", loaded, "--threads", "1", "--out", str(out))
    with loaded.connect() as conn:
        want = compute_master_file(*lines.read_lines(conn), end_week(AS_OF))
    got = pl.read_parquet(out)
    assert got.columns == FEATURE_COLUMNS
    assert report["threads"] == 1
    assert report["end_week"] == end_week(AS_OF).isoformat()  # from the tenant's as_of_date
    assert (report["rows"], report["keys"]) == (len(want), len(want[["product_id", "location_id"]].drop_duplicates()))
    assert len(want) > 1000
    lines.assert_frames_close(as_reference(got), want)


def test_pandas_baseline_reports_the_same_work(loaded):
    # the two baselines share their reading and report (bench/baselines.py)
    pandas_run = run_script("pandas_baseline.py", loaded)
    polars_run = run_script("polars_baseline.py", loaded, "--threads", "2")
    assert polars_run["threads"] == 2
    for field in ("end_week", "lines", "rows", "keys"):
        assert pandas_run[field] == polars_run[field], field
    for report in (pandas_run, polars_run):
        assert report["wall_seconds"] >= report["load_seconds"] + report["compute_seconds"] - 0.01
        assert report["peak_rss_mb"] > 0


def polars_lines(pandas_frame: pd.DataFrame) -> pl.DataFrame:
    """A line table of the reference's tests as polars_features.read_table gives it."""
    dates = [c for c in pandas_frame.columns if c.endswith("_date")]
    numbers = [c for c in pandas_frame.columns if c.startswith(("qty", "net_", "line_amount", "unit_cost"))]
    return pl.from_pandas(pandas_frame.astype({c: "datetime64[ns]" for c in dates})).with_columns(
        pl.col(dates).cast(pl.Date), pl.col(numbers).cast(pl.Float64), pl.col("deleted").cast(pl.Boolean))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_polars_matches_the_reference_on_random_edge_cases(seed):
    # starts after end_week, tombstones, a key of tombstones only, returns,
    # cancelled orders, year boundaries, invoice ties broken by id bytes
    end = dt.date(2025, 1, 13)
    tables = [frame(columns, rows) for columns, rows in zip(
        (SALES_COLUMNS, RECEIPT_COLUMNS, PO_COLUMNS, INVOICE_COLUMNS), random_erp(random.Random(seed), 24, end))]
    want = compute_master_file(*tables, end)
    got = polars_features.compute_master_file(*map(polars_lines, tables), end)
    assert len(want) > 500
    assert_master_files_match(as_reference(got), want)
