"""Reference master file (features.md) computed in memory with pandas/numpy.

Independent of the database: tests compare the `master_file` view with
`compute_master_file` to 1e-9, and the benchmark runs it as the old batch
pipeline, so it works the way that pipeline did: every line loaded, whole-frame
groupby / shift / rolling / ewm / cumsum, no Python loop per key.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

LAGS = tuple(range(1, 15))
EWM_METRICS = ("units_sold", "revenue", "units_received", "units_returned")
EWM_SPANS = (2, 4, 8, 13)
ROLLING_WINDOWS = (4, 8, 13, 26, 52)
SLOPE_WINDOWS = (4, 8, 13, 26)

IDENTITY_COLUMNS = ["product_id", "location_id", "week_start", "iso_year", "iso_week", "month", "quarter"]
WEEKLY_FACT_COLUMNS = [
    "units_sold", "units_returned", "revenue", "units_received",
    "units_ordered", "units_invoiced", "invoiced_amount",
]
LAG_COLUMNS = [f"sold_lag_{k}" for k in LAGS]
EWM_COLUMNS = [f"ewm_{m}_s{s}" for m in EWM_METRICS for s in EWM_SPANS]
ROLLING_COLUMNS = (
    [f"sold_mean_{w}" for w in ROLLING_WINDOWS]
    + [f"sold_std_{w}" for w in ROLLING_WINDOWS]
    + ["sold_max_13", "sold_max_52", "sold_zero_share_13", "revenue_mean_13"]
)
SLOPE_COLUMNS = [f"sold_slope_{w}" for w in SLOPE_WINDOWS]
CUMULATIVE_COLUMNS = [
    "cum_units_sold", "cum_units_returned", "cum_revenue", "cum_units_received",
    "cum_units_ordered", "cum_units_invoiced", "ytd_units_sold", "ytd_revenue",
]
DERIVED_COLUMNS = [
    "est_on_hand", "on_order", "weeks_since_first_sale", "weeks_since_last_sale",
    "weeks_of_cover", "avg_price_13", "last_invoice_unit_cost",
]
FEATURE_COLUMNS = (
    IDENTITY_COLUMNS + WEEKLY_FACT_COLUMNS + LAG_COLUMNS + EWM_COLUMNS
    + ROLLING_COLUMNS + SLOPE_COLUMNS + CUMULATIVE_COLUMNS + DERIVED_COLUMNS
)
assert len(FEATURE_COLUMNS) == 77

_KEY = ["product_id", "location_id"]


def _day_numbers(values) -> np.ndarray:
    """Days since 1970-01-01 (int64) of dates given as date, datetime or datetime64."""
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(np.int64)


def _week_of(day: np.ndarray) -> np.ndarray:
    """Day number of the Monday starting the week of each day (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7


def _lines(df: pd.DataFrame | None, date_col: str, value_cols: list[str], extra_cols: list[str] = ()) -> pd.DataFrame:
    """Non-deleted lines as product_id, location_id, day, week (day numbers),
    the value columns as float64 and the extra columns unchanged."""
    columns = _KEY + ["day", "week"] + list(value_cols) + list(extra_cols)
    if df is None or len(df) == 0:
        return pd.DataFrame({c: pd.Series(dtype=np.int64 if c in ("day", "week") else object) for c in columns})
    if "deleted" in df.columns:
        # null and missing both mean "not deleted" (only `deleted: true` is a tombstone)
        keep = ~pd.array(df["deleted"], dtype="boolean").fillna(False).to_numpy(bool)
        df = df.loc[keep]
    out = pd.DataFrame({"product_id": df["product_id"].to_numpy(), "location_id": df["location_id"].to_numpy()})
    out["day"] = _day_numbers(df[date_col])
    out["week"] = _week_of(out["day"].to_numpy())
    for c in value_cols:
        # Decimal -> float64 one value at a time; null stays NaN and sums as nothing, like SQL sum
        out[c] = df[c].astype("float64").to_numpy()
    for c in extra_cols:
        out[c] = df[c].to_numpy()
    return out


def _monday(end_week) -> int:
    day = int(_day_numbers([end_week])[0])
    if _week_of(np.array([day]))[0] != day:
        raise ValueError(f"end_week must be a Monday, got {end_week!r}")
    return day


def _trailing_terms(x: np.ndarray, i: np.ndarray, w: int):
    """Yield (k, x_{i-k}, valid) for k = 0..w-1 over the whole frame at once.

    Rows are contiguous per key in week order, so x_{i-k} is the row k places up;
    `valid` (i >= k) keeps the window from reaching before the key's first_week.
    """
    for k in range(w):
        shifted = np.full_like(x, np.nan)
        if k < len(x):
            shifted[k:] = x[: len(x) - k]
        yield k, shifted, i >= k


def _trailing_std(x: np.ndarray, i: np.ndarray, w: int) -> np.ndarray:
    """Sample std (ddof 1) over the trailing w-week window; NaN under 2 weeks.

    Two passes (mean, then squared deviations) rather than pandas' online
    add/remove variance, whose error grows with the values that have left the
    window; a constant window gives exactly 0.
    """
    n = np.minimum(i + 1, w).astype(np.float64)
    total = np.zeros_like(x)
    for _, xk, valid in _trailing_terms(x, i, w):
        total += np.where(valid, xk, 0.0)
    mean = total / n
    squares = np.zeros_like(x)
    for _, xk, valid in _trailing_terms(x, i, w):
        squares += np.where(valid, (xk - mean) ** 2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.sqrt(squares / (n - 1))
    std[n < 2] = np.nan
    return std


def _trailing_slope(y: np.ndarray, i: np.ndarray, w: int) -> np.ndarray:
    """OLS slope of y against the week number over the trailing w-week window; NaN under 2 weeks.

    With n weeks in the window the centred week numbers are (n-1)/2 - k, which
    sum to exactly 0, so slope = sum(y_{i-k} * ((n-1)/2 - k)) / (n(n^2-1)/12)
    needs no centring of y and no difference of large sums.
    """
    n = np.minimum(i + 1, w).astype(np.float64)
    centre = (n - 1) / 2
    sxy = np.zeros_like(y)
    for k, yk, valid in _trailing_terms(y, i, w):
        sxy += np.where(valid, yk * (centre - k), 0.0)
    sxx = n * (n * n - 1) / 12
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = sxy / sxx
    slope[n < 2] = np.nan
    return slope


def _per_row(result: pd.Series | pd.DataFrame, index: pd.Index):
    """Undo the key level that groupby().rolling()/ewm() put in front of the row index."""
    return result.droplevel(0).reindex(index)


def compute_master_file(sales, receipts, purchase_orders, invoices, end_week) -> pd.DataFrame:
    """The 77 feature columns of features.md, one row per key and week.

    Guarantees: keys are the (product_id, location_id) pairs of any non-deleted
    line of the four types; a key's rows run without gaps from the week of its
    earliest non-deleted line (of any date) to `end_week`, so a key whose
    earliest line is after `end_week` has no rows; lines of weeks after
    `end_week` are ignored. Rows are sorted by product_id, location_id (code
    point order, which is byte order, i.e. COLLATE "C") and week_start.
    Figures are float64 with NaN for null; week_start is a datetime.date.
    """
    end = _monday(end_week)
    sales = _lines(sales, "business_date", ["qty", "net_amount"])
    receipts = _lines(receipts, "received_date", ["qty_received"])
    orders = _lines(purchase_orders, "order_date", ["qty_ordered"], ["status"])
    invoices = _lines(invoices, "invoice_date", ["qty_invoiced", "line_amount"], ["invoice_id", "line_no"])

    # Keys and first_week come from every non-deleted line, whatever its date
    # (a cancelled purchase order line too): only then are later lines dropped.
    keys = (
        pd.concat([t[_KEY + ["week"]] for t in (sales, receipts, orders, invoices)], ignore_index=True)
        .groupby(_KEY, sort=True)["week"].min()
        .rename("first_week")
        .reset_index()
    )
    keys = keys[keys["first_week"] <= end].reset_index(drop=True)
    if keys.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FEATURE_COLUMNS})
    keys["kid"] = np.arange(len(keys))
    n_weeks = ((end - keys["first_week"].to_numpy()) // 7 + 1).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_weeks)[:-1]])
    keys["offset"] = offsets

    # The grid: every week of every key, contiguous per key, in key order.
    kid = np.repeat(keys["kid"].to_numpy(), n_weeks)
    i = np.arange(int(n_weeks.sum()), dtype=np.int64) - np.repeat(offsets, n_weeks)
    week = np.repeat(keys["first_week"].to_numpy(), n_weeks) + 7 * i
    mf = pd.DataFrame({"kid": kid, "i": i})

    def placed(lines: pd.DataFrame) -> pd.DataFrame:
        """Lines of weeks up to end_week with `pos`, their row in the grid."""
        lines = lines[lines["week"] <= end].merge(keys[_KEY + ["kid", "first_week", "offset"]], on=_KEY)
        lines["pos"] = lines["offset"] + (lines["week"] - lines["first_week"]) // 7
        return lines

    def weekly_sum(lines: pd.DataFrame, column: str) -> np.ndarray:
        values = np.zeros(len(mf))
        sums = lines.groupby("pos")[column].sum()
        values[sums.index.to_numpy()] = sums.to_numpy()
        return values

    sales = placed(sales)
    qty = sales["qty"]
    sales["sold"] = qty.where(qty > 0, 0.0)
    sales["returned"] = -qty.where(qty < 0, 0.0)
    receipts = placed(receipts)
    orders = placed(orders)
    orders = orders[orders["status"] != "cancelled"]
    invoices = placed(invoices)

    mf["units_sold"] = weekly_sum(sales, "sold")
    mf["units_returned"] = weekly_sum(sales, "returned")
    mf["revenue"] = weekly_sum(sales, "net_amount")
    mf["units_received"] = weekly_sum(receipts, "qty_received")
    mf["units_ordered"] = weekly_sum(orders, "qty_ordered")
    mf["units_invoiced"] = weekly_sum(invoices, "qty_invoiced")
    mf["invoiced_amount"] = weekly_sum(invoices, "line_amount")

    def per_key(columns):
        # A fresh groupby each time: it must see the columns added since.
        return mf.groupby("kid", sort=True)[columns]

    sold = mf["units_sold"]
    sold_values = sold.to_numpy()

    for k in LAGS:
        mf[f"sold_lag_{k}"] = per_key("units_sold").shift(k)

    for span in EWM_SPANS:
        ewm = _per_row(per_key(list(EWM_METRICS)).ewm(span=span, adjust=False).mean(), mf.index)
        for metric in EWM_METRICS:
            mf[f"ewm_{metric}_s{span}"] = ewm[metric]

    def rolling(column: str, w: int):
        return per_key(column).rolling(w, min_periods=1)

    for w in ROLLING_WINDOWS:
        mf[f"sold_mean_{w}"] = _per_row(rolling("units_sold", w).mean(), mf.index)
    for w in ROLLING_WINDOWS:
        mf[f"sold_std_{w}"] = _trailing_std(sold_values, i, w)
    for w in (13, 52):
        mf[f"sold_max_{w}"] = _per_row(rolling("units_sold", w).max(), mf.index)
    mf["_sold_is_zero"] = (sold == 0).astype(np.float64)
    mf["sold_zero_share_13"] = _per_row(rolling("_sold_is_zero", 13).mean(), mf.index)
    mf["revenue_mean_13"] = _per_row(rolling("revenue", 13).mean(), mf.index)

    for w in SLOPE_WINDOWS:
        mf[f"sold_slope_{w}"] = _trailing_slope(sold_values, i, w)

    for fact in ("units_sold", "units_returned", "revenue", "units_received", "units_ordered", "units_invoiced"):
        mf[f"cum_{fact}"] = per_key(fact).cumsum()
    week_dates = pd.DatetimeIndex(week.astype("datetime64[D]"))
    mf["_year"] = week_dates.year
    by_key_year = mf.groupby(["kid", "_year"], sort=False)
    mf["ytd_units_sold"] = by_key_year["units_sold"].cumsum()
    mf["ytd_revenue"] = by_key_year["revenue"].cumsum()

    mf["est_on_hand"] = mf["cum_units_received"] - mf["cum_units_sold"] + mf["cum_units_returned"]
    mf["on_order"] = (mf["cum_units_ordered"] - mf["cum_units_received"]).clip(lower=0.0)
    mf["_sale_week"] = mf["i"].where(sold > 0)
    since_first = mf["i"] - per_key("_sale_week").transform("min")
    mf["weeks_since_first_sale"] = since_first.where(since_first >= 0)
    mf["weeks_since_last_sale"] = mf["i"] - per_key("_sale_week").ffill()
    ewm4 = mf["ewm_units_sold_s4"]
    mf["weeks_of_cover"] = (mf["est_on_hand"] / ewm4).where(ewm4 > 0)
    revenue_13 = _per_row(rolling("revenue", 13).sum(), mf.index)
    sold_13 = _per_row(rolling("units_sold", 13).sum(), mf.index)
    # units_sold >= 0, so the 13-week sum is 0 exactly when the 13-week max is
    # 0; the max is exact where a moving sum might leave a residue.
    mf["avg_price_13"] = (revenue_13 / sold_13).where(mf["sold_max_13"] > 0)
    mf["last_invoice_unit_cost"] = _last_invoice_unit_cost(invoices, mf)

    iso = week_dates.isocalendar()
    out = pd.DataFrame(
        {
            "product_id": np.repeat(keys["product_id"].to_numpy(), n_weeks),
            "location_id": np.repeat(keys["location_id"].to_numpy(), n_weeks),
            "week_start": week_dates.date,
            "iso_year": iso["year"].to_numpy(np.int64),
            "iso_week": iso["week"].to_numpy(np.int64),
            "month": week_dates.month.to_numpy(np.int64),
            "quarter": week_dates.quarter.to_numpy(np.int64),
        }
    )
    figures = mf[FEATURE_COLUMNS[len(IDENTITY_COLUMNS):]].astype(np.float64)
    return pd.concat([out, figures], axis=1)


def _last_invoice_unit_cost(invoices: pd.DataFrame, mf: pd.DataFrame) -> np.ndarray:
    """line_amount / qty_invoiced of the latest invoice line with qty_invoiced > 0
    dated in or before each week, carried forward; NaN before any.

    Latest = greatest (invoice_date, invoice_id, line_no). invoice_id is sorted
    as Python str, i.e. by code point, which is the order of the UTF-8 bytes
    (COLLATE "C"): '10' < '9' < 'B' < 'a'.
    """
    lines = invoices[invoices["qty_invoiced"] > 0]
    lines = lines.assign(invoice_id=lines["invoice_id"].astype(str), line_no=lines["line_no"].astype(np.int64))
    lines = lines.sort_values(["pos", "day", "invoice_id", "line_no"], kind="mergesort")
    latest = lines.drop_duplicates("pos", keep="last")
    unit_cost = (latest["line_amount"] / latest["qty_invoiced"]).to_numpy()
    # Carry the row number of the latest line, not its cost, so that a null cost
    # on a later line is not covered by an older line's cost.
    which = np.full(len(mf), np.nan)
    which[latest["pos"].to_numpy()] = np.arange(len(latest))
    which = pd.Series(which, index=mf.index).groupby(mf["kid"]).ffill().to_numpy()
    cost = np.full(len(mf), np.nan)
    known = ~np.isnan(which)
    cost[known] = unit_cost[which[known].astype(np.int64)]
    return cost
