"""Unit tests of the reference implementations in tests/reference (no database).

Hand-computed cases pin the contract's edge rules; a plain per-key loop written
from features.md checks every column of the vectorised frame on random data;
statsforecast checks the forecasts.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tests.reference.features import (
    FEATURE_COLUMNS,
    _ewm_by_key,
    _trailing_slope,
    _trailing_std,
    compute_master_file,
)
from tests.reference.orders import (
    croston_sba,
    demand_class,
    demand_class_and_forecast,
    forecasts_for_key,
    intervals,
    recommend,
    ses,
)

D = dt.date
END = D(2024, 3, 4)  # a Monday

SALES_COLUMNS = ["txn_id", "line_no", "product_id", "location_id", "business_date", "qty", "net_amount", "deleted"]
RECEIPT_COLUMNS = ["receipt_id", "line_no", "po_id", "product_id", "location_id", "received_date", "qty_received", "deleted"]
PO_COLUMNS = [
    "po_id", "line_no", "supplier_id", "product_id", "location_id", "order_date", "expected_date",
    "qty_ordered", "unit_cost", "status", "deleted",
]
INVOICE_COLUMNS = [
    "invoice_id", "line_no", "po_id", "product_id", "location_id", "invoice_date", "qty_invoiced",
    "line_amount", "deleted",
]


def frame(columns, rows):
    """A line table from dicts; fields not given are None (deleted: False)."""
    defaults = {c: None for c in columns} | {"deleted": False}
    return pd.DataFrame([defaults | r for r in rows], columns=columns)


def sale(product, location, day, qty, amount, deleted=False, txn="t", line=1):
    return {"txn_id": txn, "line_no": line, "product_id": product, "location_id": location,
            "business_date": day, "qty": qty, "net_amount": amount, "deleted": deleted}


def receipt(product, location, day, qty, deleted=False):
    return {"receipt_id": "r", "line_no": 1, "product_id": product, "location_id": location,
            "received_date": day, "qty_received": qty, "deleted": deleted}


def po(product, location, day, qty, status="open", deleted=False):
    return {"po_id": "p", "line_no": 1, "supplier_id": "S", "product_id": product, "location_id": location,
            "order_date": day, "expected_date": day + dt.timedelta(days=14), "qty_ordered": qty,
            "unit_cost": 1, "status": status, "deleted": deleted}


def invoice(product, location, day, qty, amount, invoice_id="i", line=1, deleted=False):
    return {"invoice_id": invoice_id, "line_no": line, "product_id": product, "location_id": location,
            "invoice_date": day, "qty_invoiced": qty, "line_amount": amount, "deleted": deleted}


def master(sales=(), receipts=(), orders=(), invoices=(), end_week=END):
    return compute_master_file(
        frame(SALES_COLUMNS, sales), frame(RECEIPT_COLUMNS, receipts),
        frame(PO_COLUMNS, orders), frame(INVOICE_COLUMNS, invoices), end_week,
    )


def key_rows(mf, product, location="L1"):
    rows = mf[(mf.product_id == product) & (mf.location_id == location)]
    return rows.reset_index(drop=True)


def weeks(first, n):
    return [first + dt.timedelta(days=7 * k) for k in range(n)]


# --- master file: hand-computed cases -------------------------------------------------


def test_columns_are_the_77_of_the_contract():
    mf = master(sales=[sale("A", "L1", END, 1, 1)])
    assert list(mf.columns) == FEATURE_COLUMNS
    assert len(FEATURE_COLUMNS) == 77 and len(set(FEATURE_COLUMNS)) == 77
    assert FEATURE_COLUMNS[14:16] == ["sold_lag_1", "sold_lag_2"]
    assert FEATURE_COLUMNS[28:32] == ["ewm_units_sold_s2", "ewm_units_sold_s4", "ewm_units_sold_s8", "ewm_units_sold_s13"]
    assert FEATURE_COLUMNS[43] == "ewm_units_returned_s13"


def test_key_starting_mid_history_runs_without_gaps_to_end_week():
    mf = master(sales=[
        sale("A", "L1", D(2024, 1, 3), 2, 20),   # week of 2024-01-01
        sale("B", "L1", D(2024, 2, 14), 5, 50),  # B starts in the week of 2024-02-12
        sale("A", "L1", D(2024, 2, 25), 1, 10),  # a Sunday: week of 2024-02-19
    ])
    a, b = key_rows(mf, "A"), key_rows(mf, "B")
    assert list(a.week_start) == weeks(D(2024, 1, 1), 10)
    assert list(b.week_start) == weeks(D(2024, 2, 12), 4)
    assert list(a.units_sold) == [2, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert list(b.units_sold) == [5, 0, 0, 0]
    # B's windows start at its own first week
    assert b.sold_lag_1.isna().tolist() == [True, False, False, False]
    assert list(b.sold_mean_4) == [5, 2.5, 5 / 3, 1.25]
    assert list(mf.product_id) == ["A"] * 10 + ["B"] * 4  # sorted by key, then week


def test_weekly_facts_returns_and_cancelled_orders():
    mf = master(
        sales=[sale("A", "L1", D(2024, 3, 4), 4, 40), sale("A", "L1", D(2024, 3, 5), -1, -10),
               sale("A", "L1", D(2024, 3, 6), 0, 0.5)],
        receipts=[receipt("A", "L1", D(2024, 3, 5), 10)],
        orders=[po("A", "L1", D(2024, 3, 4), 7), po("A", "L1", D(2024, 3, 4), 100, status="cancelled"),
                po("C", "L1", D(2024, 3, 4), 9, status="cancelled")],
        invoices=[invoice("A", "L1", D(2024, 3, 7), 10, 25)],
    )
    a = key_rows(mf, "A").iloc[0]
    assert (a.units_sold, a.units_returned, a.revenue) == (4, 1, 30.5)
    assert (a.units_received, a.units_ordered, a.units_invoiced, a.invoiced_amount) == (10, 7, 10, 25)
    assert a.est_on_hand == 10 - 4 + 1
    assert a.on_order == 0  # greatest(0, 7 - 10)
    # a key seen only on a cancelled order line still has rows, with nothing ordered
    c = key_rows(mf, "C")
    assert len(c) == 1 and c.units_ordered[0] == 0 and c.cum_units_ordered[0] == 0


def test_deleted_lines_count_for_nothing():
    mf = master(
        sales=[sale("A", "L1", D(2024, 1, 1), 100, 1000, deleted=True),  # would move first_week
               sale("A", "L1", D(2024, 2, 26), 3, 30),
               sale("A", "L1", D(2024, 3, 4), 50, 500, deleted=True),
               sale("Z", "L1", D(2024, 2, 26), 1, 1, deleted=True)],     # Z exists only as tombstones
        receipts=[receipt("A", "L1", D(2024, 3, 4), 8, deleted=True)],
    )
    assert sorted(set(mf.product_id)) == ["A"]
    a = key_rows(mf, "A")
    assert list(a.week_start) == [D(2024, 2, 26), D(2024, 3, 4)]
    assert list(a.units_sold) == [3, 0] and list(a.units_received) == [0, 0]


def test_deleted_column_may_be_missing_or_null():
    rows = [sale("A", "L1", D(2024, 3, 4), 3, 30)]
    with_flag = master(sales=rows)
    sales = frame(SALES_COLUMNS, rows)
    without = compute_master_file(sales.drop(columns="deleted"), None, None, None, END)
    null_flag = compute_master_file(sales.assign(deleted=[None]), None, None, None, END)
    pd.testing.assert_frame_equal(with_flag, without)
    pd.testing.assert_frame_equal(with_flag, null_flag)


def test_lines_after_end_week_wait():
    mf = master(sales=[
        sale("A", "L1", D(2024, 2, 26), 1, 10),
        sale("A", "L1", D(2024, 3, 10), 2, 20),  # Sunday of end_week: counts
        sale("A", "L1", D(2024, 3, 11), 7, 70),  # next week: waits
        sale("B", "L1", D(2024, 3, 11), 7, 70),  # B's first line is after end_week: no rows
    ])
    assert set(mf.product_id) == {"A"}
    a = key_rows(mf, "A")
    assert list(a.units_sold) == [1, 2]
    assert a.cum_units_sold.iloc[-1] == 3


def test_ytd_resets_with_the_calendar_year_of_week_start():
    # 2024-12-30 is a Monday in calendar 2024 but ISO week 1 of 2025
    mf = master(
        sales=[sale("A", "L1", d, 1, 2) for d in (D(2024, 12, 16), D(2024, 12, 23), D(2025, 1, 2), D(2025, 1, 6))],
        end_week=D(2025, 1, 13),
    )
    a = key_rows(mf, "A")
    assert list(a.week_start) == weeks(D(2024, 12, 16), 5)
    assert list(a.ytd_units_sold) == [1, 2, 3, 1, 1]
    assert list(a.ytd_revenue) == [2, 4, 6, 2, 2]
    assert list(a.cum_units_sold) == [1, 2, 3, 4, 4]
    assert list(zip(a.iso_year, a.iso_week)) == [(2024, 51), (2024, 52), (2025, 1), (2025, 2), (2025, 3)]
    assert list(a.month) == [12, 12, 12, 1, 1] and list(a.quarter) == [4, 4, 4, 1, 1]


def test_last_invoice_unit_cost_orders_ties_by_invoice_id_bytes_then_line_no():
    same_day = D(2024, 2, 6)
    mf = master(invoices=[
        invoice("A", "L1", same_day, 1, 10.0, invoice_id="10"),
        invoice("A", "L1", same_day, 1, 20.0, invoice_id="a"),  # b'a' is the greatest
        invoice("A", "L1", same_day, 1, 30.0, invoice_id="B"),
        invoice("A", "L1", same_day, 1, 40.0, invoice_id="9"),
        invoice("A", "L1", D(2024, 2, 5), 1, 50.0, invoice_id="zz"),  # earlier date loses
        # next week: same id, line_no 10 beats 2 as a number; the zero line is skipped
        invoice("A", "L1", D(2024, 2, 13), 4, 6.0, invoice_id="x", line=2),
        invoice("A", "L1", D(2024, 2, 13), 4, 10.0, invoice_id="x", line=10),
        invoice("A", "L1", D(2024, 2, 14), 0, 99.0, invoice_id="y"),
        invoice("A", "L1", D(2024, 2, 14), -2, -4.0, invoice_id="y", line=2),
        invoice("A", "L1", D(2024, 2, 15), 5, 5.0, invoice_id="zz", deleted=True),
    ], sales=[sale("A", "L1", D(2024, 1, 29), 1, 1)])
    a = key_rows(mf, "A")
    assert list(a.week_start) == weeks(D(2024, 1, 29), 6)
    cost = a.last_invoice_unit_cost.tolist()
    assert math.isnan(cost[0])
    assert cost[1:] == [20.0, 2.5, 2.5, 2.5, 2.5]  # carried forward
    assert list(a.units_invoiced) == [0, 5, 6, 0, 0, 0]


def test_last_invoice_unit_cost_orders_by_date_before_id():
    mf = master(invoices=[
        invoice("A", "L1", D(2024, 3, 5), 2, 8.0, invoice_id="b"),
        invoice("A", "L1", D(2024, 3, 4), 2, 2.0, invoice_id="z"),
    ])
    assert key_rows(mf, "A").last_invoice_unit_cost.tolist() == [4.0]


def test_derived_features_by_hand():
    # units_sold by week: 0, 4, 0, 2; revenue 0, 40, -5, 22
    mf = master(
        sales=[sale("A", "L1", D(2024, 2, 21), 4, 40), sale("A", "L1", D(2024, 2, 27), -1, -5),
               sale("A", "L1", D(2024, 3, 4), 2, 22)],
        receipts=[receipt("A", "L1", D(2024, 2, 12), 3), receipt("A", "L1", D(2024, 3, 4), 20)],
        orders=[po("A", "L1", D(2024, 2, 13), 30)],
    )
    a = key_rows(mf, "A")
    assert list(a.week_start) == weeks(D(2024, 2, 12), 4)
    assert list(a.units_sold) == [0, 4, 0, 2]
    assert a.weeks_since_first_sale.isna().tolist() == [True, False, False, False]
    assert a.weeks_since_last_sale.isna().tolist() == [True, False, False, False]
    assert list(a.weeks_since_first_sale[1:]) == [0, 1, 2]
    assert list(a.weeks_since_last_sale[1:]) == [0, 1, 0]
    assert list(a.est_on_hand) == [3, -1, 0, 18]
    assert list(a.on_order) == [27, 27, 27, 7]
    assert list(a.sold_zero_share_13) == [1, 0.5, 2 / 3, 0.5]
    assert math.isnan(a.avg_price_13[0])
    assert list(a.avg_price_13[1:]) == [10, 35 / 4, 57 / 6]
    # ewm s4 (a = 0.4): 0, 1.6, 0.96, 1.376
    assert a.ewm_units_sold_s4.tolist() == pytest.approx([0, 1.6, 0.96, 1.376], rel=1e-12)
    assert math.isnan(a.weeks_of_cover[0])
    assert a.weeks_of_cover[3] == pytest.approx(18 / 1.376, rel=1e-12)
    assert a.sold_std_4.isna().tolist() == [True, False, False, False]
    assert a.sold_std_4[3] == pytest.approx(statistics.stdev([0, 4, 0, 2]), rel=1e-12)
    assert a.sold_slope_4[3] == pytest.approx(np.polyfit([0, 1, 2, 3], [0, 4, 0, 2], 1)[0], rel=1e-12)
    assert a.sold_max_52.tolist() == [0, 4, 4, 4]


def test_input_types_do_not_change_the_result():
    rows = [sale("A", "L1", D(2024, 2, 14), 4, 40.25), sale("A", "L1", D(2024, 3, 5), -1, -10.5)]
    as_float = master(sales=rows)
    typed = frame(SALES_COLUMNS, rows)
    typed["qty"] = [Decimal("4"), Decimal("-1")]
    typed["net_amount"] = [Decimal("40.25"), Decimal("-10.50")]
    typed["business_date"] = pd.to_datetime(typed["business_date"])  # datetime64
    pd.testing.assert_frame_equal(as_float, compute_master_file(typed, None, None, None, pd.Timestamp(END)))


def test_end_week_must_be_a_monday():
    with pytest.raises(ValueError):
        master(sales=[sale("A", "L1", D(2024, 3, 4), 1, 1)], end_week=D(2024, 3, 5))


def test_no_keys_gives_an_empty_frame_with_the_columns():
    mf = master(sales=[sale("A", "L1", D(2024, 3, 18), 1, 1)])
    assert mf.empty and list(mf.columns) == FEATURE_COLUMNS


# --- the window helpers ---------------------------------------------------------------


def test_trailing_std_of_a_constant_window_is_zero_after_large_values():
    y = np.array([1e9, -3e8, 7e12, 5.1, 5.1, 5.1, 5.1, 5.1])
    i = np.arange(len(y))
    std = _trailing_std(y, i, 4)
    assert std[-1] == 0.0 and std[-2] == 0.0
    assert std[-3] > 0
    assert math.isnan(std[0])


def test_trailing_slope_matches_polyfit_on_random_windows():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(2, 60))
        w = int(rng.integers(2, 60))
        y = rng.choice([0.0, 1.0, 2.0, 3.5, 100.0, 1234.56], size=n) * rng.integers(0, 2, size=n)
        i = np.arange(n)
        slope = _trailing_slope(y, i, w)
        std = _trailing_std(y, i, w)
        for t in range(1, n):
            lo = max(0, t - w + 1)
            xs, ys = np.arange(lo, t + 1), y[lo:t + 1]
            expected = np.polyfit(xs, ys, 1)[0] if ys.std() > 0 else 0.0
            assert slope[t] == pytest.approx(expected, rel=1e-9, abs=1e-9)
            assert std[t] == pytest.approx(statistics.stdev(ys), rel=1e-12, abs=1e-12)


def test_ewm_by_key_matches_pandas_ewm_per_key():
    rng = np.random.default_rng(5)
    n_weeks = rng.integers(1, 40, size=30)
    key_rows = np.concatenate([[0], np.cumsum(n_weeks)[:-1]])
    x = rng.choice([0.0, 1.0, 2.5, -3.0, 40.0], size=int(n_weeks.sum()))
    kid = np.repeat(np.arange(len(n_weeks)), n_weeks)
    for span in (2, 4, 8, 13):
        expected = pd.Series(x).groupby(kid).transform(lambda s: s.ewm(span=span, adjust=False).mean())
        assert _ewm_by_key(x, key_rows, n_weeks, span) == pytest.approx(expected.to_numpy(), rel=1e-12, abs=1e-12)


# --- master file: the vectorised frame against a per-key loop --------------------------


def random_erp(rng: random.Random, n_keys: int, end_week: dt.date):
    """Lines of random keys: starts anywhere (also after end_week), gaps, returns,
    cancelled orders, tombstones, year boundaries, tied invoice dates."""
    sales, receipts, orders, invoices = [], [], [], []
    ids = ["a", "B", "10", "9", "b", "Z", "é", "10a"]
    for k in range(n_keys):
        product, location = f"P{k % 4}", f"L{k // 4}"
        start = end_week - dt.timedelta(days=rng.randrange(-20, 500))
        span = rng.randrange(1, 600)
        for _ in range(rng.randrange(1, 60)):
            day = start + dt.timedelta(days=rng.randrange(span))
            qty = rng.choice([1, 2, 3, 0.5, 7.25, -1, -2.5, 0, 40])
            sales.append(sale(product, location, day, qty, round(qty * rng.uniform(0.5, 20), 2),
                              deleted=rng.random() < 0.05))
        for _ in range(rng.randrange(0, 8)):
            day = start + dt.timedelta(days=rng.randrange(span))
            receipts.append(receipt(product, location, day, rng.choice([5, 10, 12.5]), deleted=rng.random() < 0.1))
            orders.append(po(product, location, day - dt.timedelta(days=10), rng.choice([5, 10, 20]),
                             status=rng.choice(["open", "closed", "cancelled"]), deleted=rng.random() < 0.1))
        for _ in range(rng.randrange(0, 6)):
            day = start + dt.timedelta(days=rng.randrange(0, span, 3))
            invoices.append(invoice(product, location, day, rng.choice([0, 1, 3, 4, -1]),
                                    round(rng.uniform(-5, 50), 2), invoice_id=rng.choice(ids),
                                    line=rng.choice([1, 2, 10]), deleted=rng.random() < 0.1))
    # an entirely deleted key
    sales.append(sale("PX", "LX", end_week, 1, 1, deleted=True))
    return sales, receipts, orders, invoices


def loop_master_file(sales, receipts, orders, invoices, end_week) -> pd.DataFrame:
    """features.md taken literally, one key and one week at a time."""
    monday = lambda d: d - dt.timedelta(days=d.weekday())  # noqa: E731
    tables = [(sales, "business_date"), (receipts, "received_date"), (orders, "order_date"), (invoices, "invoice_date")]
    first = {}
    for rows, date_field in tables:
        for r in rows:
            if not r["deleted"]:
                key = (r["product_id"], r["location_id"])
                first[key] = min(first.get(key, monday(r[date_field])), monday(r[date_field]))
    out = []
    for key in sorted(first):
        if first[key] > end_week:
            continue
        n = (end_week - first[key]).days // 7 + 1
        week_start = [first[key] + dt.timedelta(days=7 * i) for i in range(n)]
        f = {c: [0.0] * n for c in ["units_sold", "units_returned", "revenue", "units_received",
                                   "units_ordered", "units_invoiced", "invoiced_amount"]}
        latest = [None] * n

        def lines(rows, date_field):
            for r in rows:
                if not r["deleted"] and (r["product_id"], r["location_id"]) == key and monday(r[date_field]) <= end_week:
                    yield (monday(r[date_field]) - first[key]).days // 7, r

        for i, r in lines(sales, "business_date"):
            f["units_sold"][i] += r["qty"] if r["qty"] > 0 else 0
            f["units_returned"][i] += -r["qty"] if r["qty"] < 0 else 0
            f["revenue"][i] += r["net_amount"]
        for i, r in lines(receipts, "received_date"):
            f["units_received"][i] += r["qty_received"]
        for i, r in lines(orders, "order_date"):
            if r["status"] != "cancelled":
                f["units_ordered"][i] += r["qty_ordered"]
        for i, r in lines(invoices, "invoice_date"):
            f["units_invoiced"][i] += r["qty_invoiced"]
            f["invoiced_amount"][i] += r["line_amount"]
            if r["qty_invoiced"] > 0:
                rank = (r["invoice_date"], r["invoice_id"].encode(), r["line_no"])
                if latest[i] is None or rank > latest[i][0]:
                    latest[i] = (rank, r["line_amount"] / r["qty_invoiced"])
        y = f["units_sold"]
        for i in range(n):
            row = {"product_id": key[0], "location_id": key[1], "week_start": week_start[i],
                   "iso_year": week_start[i].isocalendar()[0], "iso_week": week_start[i].isocalendar()[1],
                   "month": week_start[i].month, "quarter": (week_start[i].month - 1) // 3 + 1}
            row |= {c: v[i] for c, v in f.items()}
            for k in range(1, 15):
                row[f"sold_lag_{k}"] = y[i - k] if i >= k else math.nan
            for metric in ("units_sold", "revenue", "units_received", "units_returned"):
                for span in (2, 4, 8, 13):
                    a, e = 2 / (span + 1), f[metric][0]
                    for t in range(1, i + 1):
                        e = a * f[metric][t] + (1 - a) * e
                    row[f"ewm_{metric}_s{span}"] = e

            def window(series, w):
                return series[max(0, i - w + 1): i + 1]

            for w in (4, 8, 13, 26, 52):
                row[f"sold_mean_{w}"] = statistics.fmean(window(y, w))
            for w in (4, 8, 13, 26, 52):
                row[f"sold_std_{w}"] = statistics.stdev(window(y, w)) if len(window(y, w)) >= 2 else math.nan
            row["sold_max_13"], row["sold_max_52"] = max(window(y, 13)), max(window(y, 52))
            row["sold_zero_share_13"] = sum(v == 0 for v in window(y, 13)) / len(window(y, 13))
            row["revenue_mean_13"] = statistics.fmean(window(f["revenue"], 13))
            for w in (4, 8, 13, 26):
                ys = window(y, w)
                xs = list(range(i - len(ys) + 1, i + 1))
                if len(ys) < 2:
                    row[f"sold_slope_{w}"] = math.nan
                else:
                    mx, my = statistics.fmean(xs), statistics.fmean(ys)
                    row[f"sold_slope_{w}"] = (sum((x - mx) * (v - my) for x, v in zip(xs, ys))
                                              / sum((x - mx) ** 2 for x in xs))
            for fact in ("units_sold", "units_returned", "revenue", "units_received", "units_ordered", "units_invoiced"):
                row[f"cum_{fact}"] = math.fsum(f[fact][: i + 1])
            same_year = [t for t in range(i + 1) if week_start[t].year == week_start[i].year]
            row["ytd_units_sold"] = math.fsum(y[t] for t in same_year)
            row["ytd_revenue"] = math.fsum(f["revenue"][t] for t in same_year)
            row["est_on_hand"] = row["cum_units_received"] - row["cum_units_sold"] + row["cum_units_returned"]
            row["on_order"] = max(0.0, row["cum_units_ordered"] - row["cum_units_received"])
            sold_weeks = [t for t in range(i + 1) if y[t] > 0]
            row["weeks_since_first_sale"] = i - sold_weeks[0] if sold_weeks else math.nan
            row["weeks_since_last_sale"] = i - sold_weeks[-1] if sold_weeks else math.nan
            ewm4 = row["ewm_units_sold_s4"]
            row["weeks_of_cover"] = row["est_on_hand"] / ewm4 if ewm4 > 0 else math.nan
            units_13 = sum(window(y, 13))
            row["avg_price_13"] = sum(window(f["revenue"], 13)) / units_13 if units_13 != 0 else math.nan
            known = [latest[t] for t in range(i + 1) if latest[t] is not None]
            row["last_invoice_unit_cost"] = max(known)[1] if known else math.nan
            out.append(row)
    return pd.DataFrame(out, columns=FEATURE_COLUMNS)


def assert_master_files_match(actual: pd.DataFrame, expected: pd.DataFrame):
    """Same keys, weeks and identity columns; every figure within 1e-9 (relative,
    or absolute near zero); null exactly where null."""
    assert len(actual) == len(expected)
    for c in FEATURE_COLUMNS[:7]:
        assert actual[c].tolist() == expected[c].tolist(), c
    for c in FEATURE_COLUMNS[7:]:
        a, e = actual[c].to_numpy(float), expected[c].to_numpy(float)
        assert (np.isnan(a) == np.isnan(e)).all(), c
        ok = np.isclose(a, e, rtol=1e-9, atol=1e-9) | np.isnan(e)
        assert ok.all(), f"{c}: {a[~ok][:5]} != {e[~ok][:5]}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_frame_matches_the_per_key_loop(seed):
    rng = random.Random(seed)
    end_week = D(2025, 1, 13)
    lines = random_erp(rng, 24, end_week)
    expected = loop_master_file(*lines, end_week)
    actual = compute_master_file(
        frame(SALES_COLUMNS, lines[0]), frame(RECEIPT_COLUMNS, lines[1]),
        frame(PO_COLUMNS, lines[2]), frame(INVOICE_COLUMNS, lines[3]), end_week,
    )
    assert len(expected) > 500
    assert_master_files_match(actual, expected)


def test_the_comparison_can_fail():
    rng = random.Random(4)
    end_week = D(2025, 1, 13)
    lines = random_erp(rng, 6, end_week)
    expected = loop_master_file(*lines, end_week)
    actual = compute_master_file(
        frame(SALES_COLUMNS, lines[0]), frame(RECEIPT_COLUMNS, lines[1]),
        frame(PO_COLUMNS, lines[2]), frame(INVOICE_COLUMNS, lines[3]), end_week,
    )
    row = actual.index[actual["sold_slope_13"].abs() > 0.1][0]
    actual.loc[row, "sold_slope_13"] *= 1 + 1e-8
    with pytest.raises(AssertionError):
        assert_master_files_match(actual, expected)


# --- forecasts ------------------------------------------------------------------------

SPEC_Y = [0, 3, 0, 0, 5, 0, 2, 0, 0, 0, 4, 1]


def test_spec_check_values():
    assert demand_class_and_forecast(SPEC_Y) == ("intermittent", "croston_sba", 1.303850620093827)
    assert ses(SPEC_Y) == 0.9218499820300002
    assert statistics.NormalDist().inv_cdf(0.95) == pytest.approx(1.6448536269514722, rel=1e-15)


def test_intervals_count_from_the_start_and_ignore_trailing_zeros():
    assert intervals([0, 0, 5, 0, 3, 0, 0]) == [3, 2]
    assert intervals([1, 1, 1]) == [1, 1, 1]
    assert intervals(SPEC_Y) == [2, 3, 2, 4, 1]


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([0, 0, 0], "no_demand"),
        ([], "no_demand"),
        ([5, 5, 6, 5, 4], "smooth"),
        ([1, 10, 1, 12, 1], "erratic"),
        ([0, 5, 0, 6, 0, 5], "intermittent"),   # ADI 2
        ([0, 1, 0, 12, 0, 1], "lumpy"),
        ([0, 0, 0, 7, 0], "intermittent"),      # k = 1: CV2 0, ADI 4
        ([7], "smooth"),
        ([17, 3, 10], "erratic"),               # CV2 = 49/100 exactly: not < 0.49
        ([0, 17, 0, 3, 0, 10], "lumpy"),
        ([1] * 24 + [0] + [1], "smooth"),       # ADI 26/25
        ([1, 0] * 8 + [1] * 9, "intermittent"),  # ADI 25/17
    ],
)
def test_demand_class(y, expected):
    assert demand_class(y) == expected


def test_adi_exactly_at_the_threshold_is_not_below_it():
    # 25 sales, the last at position 33: ADI = 33/25 = 1.32
    assert demand_class([0] * 8 + [1] * 25) == "intermittent"
    assert demand_class([0] * 7 + [1] * 25) == "smooth"  # 32/25


def test_only_the_last_104_weeks_count():
    y = [100.0] * 30 + [0.0] * 104
    assert demand_class_and_forecast(y) == ("no_demand", None, 0.0)
    y = [100.0] * 10 + [2.0] * 104
    assert demand_class_and_forecast(y) == ("smooth", "ses", pytest.approx(2.0, rel=1e-15))


def test_forecasts_for_key_rows():
    rows = forecasts_for_key(SPEC_Y, D(2024, 3, 4), 3, "A", "L1")
    assert [r["target_week"] for r in rows] == [D(2024, 3, 11), D(2024, 3, 18), D(2024, 3, 25)]
    assert {r["yhat"] for r in rows} == {1.303850620093827}
    assert {(r["method"], r["demand_class"], r["as_of_week"]) for r in rows} == {
        ("croston_sba", "intermittent", D(2024, 3, 4))}
    assert forecasts_for_key([0, 0], D(2024, 3, 4), 1)[0]["method"] is None


def random_series(rng: np.random.Generator):
    n = int(rng.integers(1, 120))
    p = rng.uniform(0.05, 1.0)
    return (rng.random(n) < p) * rng.choice([1.0, 2.0, 3.0, 4.5, 10.0, 37.0], size=n)


def test_ses_and_croston_match_statsforecast():
    from statsforecast.models import CrostonSBA, SimpleExponentialSmoothing

    rng = np.random.default_rng(11)
    compared = 0
    while compared < 60:
        y = random_series(rng)
        if not (y > 0).any():
            continue
        expected_ses = SimpleExponentialSmoothing(alpha=0.1).forecast(y=y, h=1)["mean"][0]
        expected_sba = CrostonSBA().forecast(y=y, h=1)["mean"][0]
        assert ses(y.tolist()) == pytest.approx(expected_ses, rel=1e-12, abs=1e-15)
        assert croston_sba(y.tolist()) == pytest.approx(expected_sba, rel=1e-12)
        compared += 1


def test_forecast_follows_the_class():
    rng = np.random.default_rng(12)
    for _ in range(50):
        y = random_series(rng).tolist()
        cls, method, yhat = demand_class_and_forecast(y)
        if cls == "no_demand":
            assert (method, yhat) == (None, 0.0)
        elif cls in ("smooth", "erratic"):
            assert (method, yhat) == ("ses", ses(y[-104:]))
        else:
            assert (method, yhat) == ("croston_sba", croston_sba(y[-104:]))


# --- recommendations ------------------------------------------------------------------

EFF = {"discontinued": False, "assorted": True, "location_enabled": True, "lead_time_days": 14,
       "min_order_qty": 1, "order_multiple": 1, "review_period_weeks": 1, "service_level": 0.95}
Z95 = 1.6448536269514722


def test_recommend_reorders_with_min_qty_and_multiple():
    row = {"sold_std_13": 2.0, "est_on_hand": 3.0, "on_order": 4.0}
    r = recommend(row, ("smooth", "ses", 10.0), EFF | {"lead_time_days": 21, "order_multiple": 6, "min_order_qty": 5})
    # L = 3, R = 1: ss = z * 2 * 2, up to = 40 + ss, position 7
    assert r["lead_time_weeks"] == 3 and r["sigma"] == 2
    assert r["z"] == pytest.approx(Z95, rel=1e-15)
    assert r["safety_stock"] == pytest.approx(4 * Z95, rel=1e-12)
    assert r["order_up_to"] == pytest.approx(40 + 4 * Z95, rel=1e-12)
    assert r["inventory_position"] == 7
    assert r["raw_qty"] == pytest.approx(33 + 4 * Z95, rel=1e-12)  # 39.58
    assert (r["recommended_qty"], r["reason"]) == (42, "reorder")
    assert (r["demand_class"], r["method"], r["forecast_per_week"]) == ("smooth", "ses", 10.0)


def test_recommend_min_order_qty_and_exact_multiples():
    row = {"sold_std_13": None, "est_on_hand": -5.0, "on_order": 0.0}  # negative stock counts as 0
    r = recommend(row, 0.5, EFF | {"min_order_qty": 12, "order_multiple": 6})
    assert r["sigma"] == 0 and r["inventory_position"] == 0
    assert r["raw_qty"] == pytest.approx(1.5)
    assert r["recommended_qty"] == 12  # greatest(1.5, 12) is already a multiple of 6
    # 0.1 * 3 / 0.1 is 3.0000000000000004: the 1e-9 keeps it at 3 multiples
    r = recommend({"sold_std_13": math.nan, "est_on_hand": 0.0, "on_order": 0.0}, 0.1 * 3 / 3,
                  EFF | {"lead_time_days": 14, "review_period_weeks": 1, "order_multiple": 0.1, "min_order_qty": 0})
    assert r["raw_qty"] == pytest.approx(0.3) and r["recommended_qty"] == pytest.approx(0.3)


def test_recommend_sufficient_stock():
    r = recommend({"sold_std_13": 1.0, "est_on_hand": 100.0, "on_order": 10.0}, ("erratic", "ses", 2.0), EFF)
    assert r["raw_qty"] < 0 and (r["recommended_qty"], r["reason"]) == (0, "sufficient_stock")


@pytest.mark.parametrize(
    ("override", "reason"),
    [({"discontinued": True, "assorted": False}, "discontinued"),
     ({"assorted": False, "location_enabled": False}, "not_assorted"),
     ({"location_enabled": False}, "location_disabled")],
)
def test_recommend_blocked_keys_still_compute_the_figures(override, reason):
    row = {"sold_std_13": 1.0, "est_on_hand": 0.0, "on_order": 0.0}
    open_key = recommend(row, 5.0, EFF)
    blocked = recommend(row, 5.0, EFF | override)
    assert open_key["reason"] == "reorder" and blocked["reason"] == reason
    assert blocked["recommended_qty"] == 0
    for c in ("safety_stock", "order_up_to", "inventory_position", "raw_qty", "z"):
        assert blocked[c] == open_key[c]


def test_recommend_service_level_sets_z():
    r = recommend({"sold_std_13": 1.0, "est_on_hand": 0.0, "on_order": 0.0}, 1.0, EFF | {"service_level": 0.5})
    assert r["z"] == 0 and r["safety_stock"] == 0


# --- scale ----------------------------------------------------------------------------


def synthetic_erp(n_products: int, n_locations: int, n_weeks: int, end_week: dt.date, seed: int = 0):
    """Vectorised synthetic ERP lines, about n_products * n_locations * n_weeks key-weeks:
    ~1.5 sales lines per key-week (3% returns), an order, receipt and invoice
    every 4 weeks, 1% tombstones. Dates are datetime64, amounts float."""
    rng = np.random.default_rng(seed)
    first_day = np.datetime64(end_week) - np.timedelta64(7 * (n_weeks - 1), "D")
    products = np.array([f"P{p:05d}" for p in range(n_products)], dtype=object)
    locations = np.array([f"L{loc:03d}" for loc in range(n_locations)], dtype=object)
    n_keys = n_products * n_locations
    key_product = np.repeat(np.arange(n_products), n_locations)
    key_location = np.tile(np.arange(n_locations), n_products)
    # most keys start at the beginning, a tenth later on
    start_week = np.where(rng.random(n_keys) < 0.9, 0, rng.integers(0, n_weeks, n_keys))

    def lines(per_key_week: float, id_prefix: str):
        weeks_alive = n_weeks - start_week
        counts = rng.poisson(per_key_week * weeks_alive)
        key = np.repeat(np.arange(n_keys), counts)
        week = start_week[key] + (rng.random(len(key)) * weeks_alive[key]).astype(np.int64)
        day = first_day + (7 * week + rng.integers(0, 7, len(key))).astype("timedelta64[D]")
        return pd.DataFrame({
            f"{id_prefix}_id": np.char.add(id_prefix[0], np.arange(len(key)).astype(str)).astype(object),
            "line_no": np.ones(len(key), dtype=np.int64),
            "product_id": products[key_product[key]],
            "location_id": locations[key_location[key]],
            "_day": day,
            "deleted": rng.random(len(key)) < 0.01,
        })

    sales = lines(1.5, "txn").rename(columns={"_day": "business_date"})
    qty = rng.integers(1, 6, len(sales)).astype(np.float64)
    qty[rng.random(len(sales)) < 0.03] *= -1
    sales["qty"] = qty
    sales["net_amount"] = np.round(qty * rng.uniform(1, 30, len(sales)), 2)

    receipts = lines(0.25, "receipt").rename(columns={"_day": "received_date"})
    receipts["po_id"] = None
    receipts["qty_received"] = rng.integers(5, 50, len(receipts)).astype(np.float64)

    orders = lines(0.25, "po").rename(columns={"_day": "order_date"})
    orders["supplier_id"] = "S1"
    orders["expected_date"] = orders["order_date"] + np.timedelta64(14, "D")
    orders["qty_ordered"] = rng.integers(5, 50, len(orders)).astype(np.float64)
    orders["unit_cost"] = 2.5
    orders["status"] = rng.choice(np.array(["open", "closed", "cancelled"], dtype=object), len(orders), p=[0.3, 0.65, 0.05])

    invoices = lines(0.25, "invoice").rename(columns={"_day": "invoice_date"})
    invoices["po_id"] = None
    invoices["qty_invoiced"] = rng.integers(0, 50, len(invoices)).astype(np.float64)
    invoices["line_amount"] = np.round(invoices["qty_invoiced"] * rng.uniform(1, 10, len(invoices)), 2)
    return sales, receipts, orders, invoices


def test_synthetic_scale_small():
    end_week = D(2024, 12, 30)
    lines = synthetic_erp(30, 4, 60, end_week, seed=3)
    mf = compute_master_file(*lines, end_week)
    assert set(mf.groupby(["product_id", "location_id"]).week_start.max()) == {end_week}
    assert mf.groupby(["product_id", "location_id"]).size().max() == 60
    assert not mf[["units_sold", "cum_units_sold", "ewm_units_sold_s13", "sold_mean_52"]].isna().any().any()
