"""The master file's 77 feature columns (features.md) with polars, as a batch
tool would compute them: every line in memory, one lazy query of group_by
aggregates, joins and window expressions (`over` the key: shift, ewm_mean,
rolling_*, cum_sum, forward_fill), no Python loop over keys or weeks.

The yardstick for the database's full rebuild (issue 17); tests compare it
with tests/reference/features.py to 1e-9. The thread count is polars'
(POLARS_MAX_THREADS, read once when polars is imported): see
bench/polars_baseline.py, which sets it.
"""

from __future__ import annotations

import datetime as dt
import io

import polars as pl

from tests.reference.features import (
    EWM_METRICS,
    EWM_SPANS,
    FEATURE_COLUMNS,
    LAGS,
    ROLLING_WINDOWS,
    SLOPE_WINDOWS,
)

KEY = ["product_id", "location_id"]
FACTS = ["units_sold", "units_returned", "revenue", "units_received", "units_ordered", "units_invoiced",
         "invoiced_amount"]


def read_table(buffer: io.BytesIO, columns: list[str], dates: list[str], texts: list[str]) -> pl.DataFrame:
    """One line table from bench.baselines.copy_csv: texts as text (an id such
    as 'NA' too), dates as dates, line_no as an integer, every other column a
    double (parsed to the nearest one), `deleted` a boolean."""
    schema = {c: pl.Float64 for c in columns} | {c: pl.String for c in texts} | {c: pl.Date for c in dates}
    schema |= {"line_no": pl.Int64, "deleted": pl.String}
    frame = pl.read_csv(buffer, schema=schema)
    return frame.with_columns(pl.col("deleted") == "t")


def _monday(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1w")  # polars' weeks start on Monday


def _live(frame: pl.LazyFrame, date_column: str) -> pl.LazyFrame:
    """Non-deleted lines, with `week`, the Monday of their date."""
    return frame.filter(~pl.col("deleted")).with_columns(week=_monday(date_column))


def _rolling(expr: pl.Expr, kind: str, w: int, min_samples: int = 1) -> pl.Expr:
    """The trailing w-week window of a key (it never reaches before first_week)."""
    return getattr(expr, f"rolling_{kind}")(w, min_samples=min_samples).over("kid")


def compute_master_file(sales: pl.DataFrame, receipts: pl.DataFrame, purchase_orders: pl.DataFrame,
                        invoices: pl.DataFrame, end_week: dt.date) -> pl.DataFrame:
    """compute_master_file of tests/reference/features.py, the same guarantees:
    keys from every non-deleted line, rows without gaps from a key's first week
    to `end_week`, later lines ignored, sorted by product_id, location_id (as
    bytes) and week_start; null where the reference has NaN."""
    sales, receipts, orders, invoices = (
        _live(frame.lazy(), date_column) for frame, date_column in (
            (sales, "business_date"), (receipts, "received_date"), (purchase_orders, "order_date"),
            (invoices, "invoice_date")))

    # Keys and first_week come from every non-deleted line, whatever its date
    # (a cancelled order line too); kid numbers them in byte order of the key.
    keys = (
        pl.concat([t.select(*KEY, "week") for t in (sales, receipts, orders, invoices)])
        .group_by(KEY).agg(first_week=pl.col("week").min())
        .filter(pl.col("first_week") <= end_week)
        .sort(KEY)
        .with_row_index("kid")
    )

    def weekly(lines: pl.LazyFrame, **sums: pl.Expr) -> pl.LazyFrame:
        """Sums of the lines of each key and week up to end_week."""
        return (lines.filter(pl.col("week") <= end_week).join(keys.select("kid", *KEY), on=KEY)
                .group_by("kid", "week").agg(**sums))

    qty = pl.col("qty")
    facts = [
        weekly(sales, units_sold=pl.when(qty > 0).then(qty).otherwise(0.0).sum(),
               units_returned=-pl.when(qty < 0).then(qty).otherwise(0.0).sum(),
               revenue=pl.col("net_amount").sum()),
        weekly(receipts, units_received=pl.col("qty_received").sum()),
        # a null status is not 'cancelled'
        weekly(orders.filter(pl.col("status").ne_missing("cancelled")), units_ordered=pl.col("qty_ordered").sum()),
        weekly(invoices, units_invoiced=pl.col("qty_invoiced").sum(), invoiced_amount=pl.col("line_amount").sum()),
        # the latest costed line of the week by (invoice_date, invoice_id as
        # bytes, line_no); a null cost becomes NaN so that carrying it forward
        # below does not let an older week's cost cover it
        weekly(invoices.filter(pl.col("qty_invoiced") > 0),
               invoice_cost=(pl.col("line_amount") / pl.col("qty_invoiced"))
               .sort_by("invoice_date", "invoice_id", "line_no").last().fill_null(float("nan"))),
    ]

    # The grid: every week of every key, in key and week order.
    grid = (keys.with_columns(week=pl.date_ranges("first_week", pl.lit(end_week), "1w")).explode("week")
            .with_columns(i=pl.int_range(pl.len()).over("kid").cast(pl.Float64)))
    for frame in facts:
        grid = grid.join(frame, on=["kid", "week"], how="left", maintain_order="left")
    grid = grid.with_columns(pl.col(FACTS).fill_null(0.0))

    sold, revenue, i = pl.col("units_sold"), pl.col("revenue"), pl.col("i")
    sale_week = pl.when(sold > 0).then(i)
    window_columns = [
        *(sold.shift(k).over("kid").alias(f"sold_lag_{k}") for k in LAGS),
        *(pl.col(m).ewm_mean(span=s, adjust=False).over("kid").alias(f"ewm_{m}_s{s}")
          for m in EWM_METRICS for s in EWM_SPANS),
        *(_rolling(sold, "mean", w).alias(f"sold_mean_{w}") for w in ROLLING_WINDOWS),
        *(_rolling(sold, "std", w, min_samples=2).alias(f"sold_std_{w}") for w in ROLLING_WINDOWS),
        *(_rolling(sold, "max", w).alias(f"sold_max_{w}") for w in (13, 52)),
        _rolling((sold == 0).cast(pl.Float64), "mean", 13).alias("sold_zero_share_13"),
        _rolling(revenue, "mean", 13).alias("revenue_mean_13"),
        *(_slope(sold, i, w).alias(f"sold_slope_{w}") for w in SLOPE_WINDOWS),
        *(pl.col(f).cum_sum().over("kid").alias(f"cum_{f}") for f in FACTS[:6]),
        sold.cum_sum().over("kid", pl.col("week").dt.year()).alias("ytd_units_sold"),
        revenue.cum_sum().over("kid", pl.col("week").dt.year()).alias("ytd_revenue"),
        (i - sale_week.min().over("kid")).alias("since_first"),
        (i - sale_week.forward_fill().over("kid")).alias("weeks_since_last_sale"),
        (_rolling(revenue, "sum", 13) / _rolling(sold, "sum", 13)).alias("price_13"),
        pl.col("invoice_cost").forward_fill().over("kid").fill_nan(None).alias("last_invoice_unit_cost"),
    ]
    ewm4, est_on_hand = pl.col("ewm_units_sold_s4"), pl.col("est_on_hand")
    result = (
        grid.with_columns(window_columns)
        .with_columns(
            est_on_hand=pl.col("cum_units_received") - pl.col("cum_units_sold") + pl.col("cum_units_returned"),
            on_order=(pl.col("cum_units_ordered") - pl.col("cum_units_received")).clip(lower_bound=0.0),
            weeks_since_first_sale=pl.when(pl.col("since_first") >= 0).then(pl.col("since_first")),
            # units_sold >= 0: the 13-week sum is 0 exactly when the 13-week max is
            avg_price_13=pl.when(pl.col("sold_max_13") > 0).then(pl.col("price_13")),
        )
        .with_columns(weeks_of_cover=pl.when(ewm4 > 0).then(est_on_hand / ewm4))
        .rename({"week": "week_start"})
        .with_columns(iso_year=pl.col("week_start").dt.iso_year(), iso_week=pl.col("week_start").dt.week(),
                      month=pl.col("week_start").dt.month(), quarter=pl.col("week_start").dt.quarter())
        .select(FEATURE_COLUMNS)
    )
    return result.collect()


def _slope(y: pl.Expr, i: pl.Expr, w: int) -> pl.Expr:
    """OLS slope of y against the week number over the trailing w-week window;
    null under 2 weeks. With n weeks in the window, the week numbers' mean is
    i - (n-1)/2 and their sum of squared deviations n(n^2-1)/12."""
    n = pl.min_horizontal(i + 1, w)
    sxy = _rolling(i * y, "sum", w) - (i - (n - 1) / 2) * _rolling(y, "sum", w)
    return pl.when(n >= 2).then(sxy / (n * (n * n - 1) / 12))
