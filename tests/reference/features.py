"""Reference master file (features.md) computed in memory with pandas/numpy.

Independent of the database: tests compare the `master_file` view with
`compute_master_file` to 1e-9, and the benchmark runs it as the old batch
pipeline, so it works the way that pipeline did: every line in memory, then
whole-frame operations (groupby shift / cumsum, rolling, ewm), with no Python
loop per key. Rolling windows use one per-row bounds array instead of
groupby().rolling(), and the ewm steps by week number over all keys at once:
pandas' groupby rolling/ewm build their bounds group by group in Python, and
that dominated the run time at 20,000 keys. Std and slope are two-pass sums
over the window, for their numerical soundness.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer

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


FIGURE_COLUMNS = FEATURE_COLUMNS[len(IDENTITY_COLUMNS):]


class _Columns:
    """The 70 figure columns of the result, filled in place in one float64 block
    (column-major), so the finished frame is not a second copy of them."""

    def __init__(self, n_rows: int):
        self._values = np.full((n_rows, len(FIGURE_COLUMNS)), np.nan, order="F")
        self._at = {c: j for j, c in enumerate(FIGURE_COLUMNS)}

    def __setitem__(self, column: str, values) -> None:
        self._values[:, self._at[column]] = values

    def __getitem__(self, column: str) -> np.ndarray:
        return self._values[:, self._at[column]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self._values, columns=FIGURE_COLUMNS, copy=False)


class _KeyWindow(BaseIndexer):
    """Trailing windows of `window_size` rows over the whole frame, cut at each
    key's first row (`key_start`, per row): bounds computed at once, where
    groupby().rolling() builds them group by group in Python."""

    def get_window_bounds(self, num_values=0, min_periods=None, center=None, closed=None, step=None):
        end = np.arange(1, num_values + 1, dtype=np.int64)
        start = np.maximum(end - self.window_size, self.key_start)
        return start, end


def _ewm_by_key(x: np.ndarray, key_rows: np.ndarray, n_weeks: np.ndarray, span: int) -> np.ndarray:
    """features.md's ewm per key: e_0 = x_0, e_i = a*x_i + (1-a)*e_{i-1}, a = 2/(span+1).

    One step per week number, each over all keys that have that week (keys
    taken longest first, so they are a prefix): no loop per key. Equal to
    pandas' ewm(span, adjust=False) up to rounding.
    """
    a = 2 / (span + 1)
    order = np.argsort(-n_weeks, kind="stable")
    first_rows, lengths = key_rows[order], n_weeks[order]
    e = np.empty_like(x)
    e[first_rows] = x[first_rows]
    for t in range(1, int(lengths[0]) if len(lengths) else 0):
        rows = first_rows[: np.searchsorted(-lengths, -t, side="left")] + t
        e[rows] = a * x[rows] + (1 - a) * e[rows - 1]
    return e


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
    n_weeks = ((end - keys["first_week"].to_numpy()) // 7 + 1).astype(np.int64)
    key_rows = np.concatenate([[0], np.cumsum(n_weeks)[:-1]]).astype(np.int64)  # each key's first row
    keys["first_row"] = key_rows

    # The grid: every week of every key, contiguous per key, in key order.
    kid = np.repeat(np.arange(len(keys)), n_weeks)
    key_start = np.repeat(key_rows, n_weeks)
    i = np.arange(int(n_weeks.sum()), dtype=np.int64) - key_start
    week = np.repeat(keys["first_week"].to_numpy(), n_weeks) + 7 * i
    n_rows = len(i)

    def placed(lines: pd.DataFrame) -> pd.DataFrame:
        """Lines of weeks up to end_week with `row`, their row in the grid."""
        lines = lines[lines["week"] <= end].merge(keys[_KEY + ["first_week", "first_row"]], on=_KEY)
        lines["row"] = lines["first_row"] + (lines["week"] - lines["first_week"]) // 7
        return lines

    def weekly_sum(lines: pd.DataFrame, column: str) -> np.ndarray:
        values = np.zeros(n_rows)
        sums = lines.groupby("row")[column].sum()
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

    col = _Columns(n_rows)
    col["units_sold"] = weekly_sum(sales, "sold")
    col["units_returned"] = weekly_sum(sales, "returned")
    col["revenue"] = weekly_sum(sales, "net_amount")
    col["units_received"] = weekly_sum(receipts, "qty_received")
    col["units_ordered"] = weekly_sum(orders, "qty_ordered")
    col["units_invoiced"] = weekly_sum(invoices, "qty_invoiced")
    col["invoiced_amount"] = weekly_sum(invoices, "line_amount")
    sold = col["units_sold"]
    facts = pd.DataFrame({c: col[c] for c in WEEKLY_FACT_COLUMNS})
    by_key = facts.groupby(kid, sort=False)

    for k in LAGS:
        col[f"sold_lag_{k}"] = by_key["units_sold"].shift(k).to_numpy()

    for metric in EWM_METRICS:
        for span in EWM_SPANS:
            col[f"ewm_{metric}_s{span}"] = _ewm_by_key(col[metric], key_rows, n_weeks, span)

    def rolling(values: np.ndarray, w: int):
        return pd.Series(values).rolling(_KeyWindow(window_size=w, key_start=key_start), min_periods=1)

    for w in ROLLING_WINDOWS:
        col[f"sold_mean_{w}"] = rolling(sold, w).mean().to_numpy()
    for w in ROLLING_WINDOWS:
        col[f"sold_std_{w}"] = _trailing_std(sold, i, w)
    for w in (13, 52):
        col[f"sold_max_{w}"] = rolling(sold, w).max().to_numpy()
    col["sold_zero_share_13"] = rolling((sold == 0).astype(np.float64), 13).mean().to_numpy()
    col["revenue_mean_13"] = rolling(col["revenue"], 13).mean().to_numpy()

    for w in SLOPE_WINDOWS:
        col[f"sold_slope_{w}"] = _trailing_slope(sold, i, w)

    for fact in ("units_sold", "units_returned", "revenue", "units_received", "units_ordered", "units_invoiced"):
        col[f"cum_{fact}"] = by_key[fact].cumsum().to_numpy()
    week_dates = pd.DatetimeIndex(week.astype("datetime64[D]"))
    by_key_year = facts.groupby([kid, week_dates.year.to_numpy()], sort=False)
    col["ytd_units_sold"] = by_key_year["units_sold"].cumsum().to_numpy()
    col["ytd_revenue"] = by_key_year["revenue"].cumsum().to_numpy()

    col["est_on_hand"] = col["cum_units_received"] - col["cum_units_sold"] + col["cum_units_returned"]
    col["on_order"] = np.maximum(col["cum_units_ordered"] - col["cum_units_received"], 0.0)
    sale_week = pd.Series(np.where(sold > 0, i, np.nan)).groupby(kid, sort=False)
    since_first = i - sale_week.transform("min").to_numpy()
    col["weeks_since_first_sale"] = np.where(since_first >= 0, since_first, np.nan)
    col["weeks_since_last_sale"] = i - sale_week.ffill().to_numpy()
    ewm4 = col["ewm_units_sold_s4"]
    with np.errstate(divide="ignore", invalid="ignore"):
        col["weeks_of_cover"] = np.where(ewm4 > 0, col["est_on_hand"] / ewm4, np.nan)
        # units_sold >= 0, so the 13-week sum is 0 exactly when the 13-week max
        # is 0; the max is exact where a moving sum might leave a residue.
        col["avg_price_13"] = np.where(
            col["sold_max_13"] > 0,
            rolling(col["revenue"], 13).sum().to_numpy() / rolling(sold, 13).sum().to_numpy(),
            np.nan,
        )
    col["last_invoice_unit_cost"] = _last_invoice_unit_cost(invoices, kid)

    out = col.frame()
    iso = week_dates.isocalendar()
    identity = {
        "product_id": np.repeat(keys["product_id"].to_numpy(), n_weeks),
        "location_id": np.repeat(keys["location_id"].to_numpy(), n_weeks),
        "week_start": week_dates.date,
        "iso_year": iso["year"].to_numpy(np.int64),
        "iso_week": iso["week"].to_numpy(np.int64),
        "month": week_dates.month.to_numpy(np.int64),
        "quarter": week_dates.quarter.to_numpy(np.int64),
    }
    for position, (name, values) in enumerate(identity.items()):
        out.insert(position, name, values)
    return out


def _last_invoice_unit_cost(invoices: pd.DataFrame, kid: np.ndarray) -> np.ndarray:
    """line_amount / qty_invoiced of the latest invoice line with qty_invoiced > 0
    dated in or before each week, carried forward; NaN before any.

    Latest = greatest (invoice_date, invoice_id, line_no). invoice_id is sorted
    as Python str, i.e. by code point, which is the order of the UTF-8 bytes
    (COLLATE "C"): '10' < '9' < 'B' < 'a'.
    """
    lines = invoices[invoices["qty_invoiced"] > 0]
    lines = lines.assign(invoice_id=lines["invoice_id"].astype(str), line_no=lines["line_no"].astype(np.int64))
    lines = lines.sort_values(["row", "day", "invoice_id", "line_no"], kind="mergesort")
    latest = lines.drop_duplicates("row", keep="last")
    unit_cost = (latest["line_amount"] / latest["qty_invoiced"]).to_numpy()
    # Carry the row number of the latest line, not its cost, so that a null cost
    # on a later line is not covered by an older line's cost.
    which = np.full(len(kid), np.nan)
    which[latest["row"].to_numpy()] = np.arange(len(latest))
    which = pd.Series(which).groupby(kid, sort=False).ffill().to_numpy()
    cost = np.full(len(kid), np.nan)
    known = ~np.isnan(which)
    cost[known] = unit_cost[which[known].astype(np.int64)]
    return cost
