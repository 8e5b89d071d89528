"""Reference master file (features.md) computed in memory with pandas/numpy.

Independent of the database: tests compare the `master_file` view with
`compute_master_file` to 1e-9, and the benchmark runs it as the old batch
pipeline, so it works the way that pipeline did: every line in memory, then
whole-frame operations (groupby shift / cumsum, rolling, ewm), with no Python
loop per key. The columns are the declared features
(sql/control/015_features_declared.sql, read by pyloader/features.py), each
computed by its kind here, independently of the database's kernel. Rolling windows use one per-row bounds array instead of
groupby().rolling(), and the ewm steps by week number over all keys at once:
pandas' groupby rolling/ewm build their bounds group by group in Python, and
that dominated the run time at 20,000 keys. Std and slope are two-pass sums
over the window, for their numerical soundness.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer

from pyloader import features as declaration

# the declaration's lags, spans and windows as of issue 17 (bench/polars_features.py reads them)
LAGS = tuple(range(1, 15))
EWM_METRICS = ("units_sold", "revenue", "units_received", "units_returned")
EWM_SPANS = (2, 4, 8, 13)
ROLLING_WINDOWS = (4, 8, 13, 26, 52)
SLOPE_WINDOWS = (4, 8, 13, 26)

IDENTITY_COLUMNS = ["product_id", "location_id", "week_start", "iso_year", "iso_week", "month", "quarter"]
WEEKLY_FACT_COLUMNS = list(declaration.INPUTS)
FEATURES = declaration.declared()
FEATURE_COLUMNS = IDENTITY_COLUMNS + [f.name for f in FEATURES]
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


class _Columns:
    """The figure columns of the result, filled in place in one float64 block
    (column-major), so the finished frame is not a second copy of them."""

    def __init__(self, n_rows: int, columns: list[str]):
        self._columns = columns
        self._values = np.full((n_rows, len(columns)), np.nan, order="F")
        self._at = {c: j for j, c in enumerate(columns)}

    def __setitem__(self, column: str, values) -> None:
        self._values[:, self._at[column]] = values

    def __getitem__(self, column: str) -> np.ndarray:
        return self._values[:, self._at[column]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self._values, columns=self._columns, copy=False)


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


def compute_master_file(sales, receipts, purchase_orders, invoices, end_week, features=None) -> pd.DataFrame:
    """The identity columns and the declared features (`features`, a list of
    pyloader.features.Feature; by default the declaration: the 77 columns of
    features.md), one row per key and week.

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
    features = FEATURES if features is None else tuple(features)
    columns = IDENTITY_COLUMNS + [f.name for f in features]
    if keys.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
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

    series = {
        "units_sold": weekly_sum(sales, "sold"),
        "units_returned": weekly_sum(sales, "returned"),
        "revenue": weekly_sum(sales, "net_amount"),
        "units_received": weekly_sum(receipts, "qty_received"),
        "units_ordered": weekly_sum(orders, "qty_ordered"),
        "units_invoiced": weekly_sum(invoices, "qty_invoiced"),
        "invoiced_amount": weekly_sum(invoices, "line_amount"),
    }
    facts = pd.DataFrame(series)
    by_key = facts.groupby(kid, sort=False)
    week_dates = pd.DatetimeIndex(week.astype("datetime64[D]"))
    by_key_year = facts.groupby([kid, week_dates.year.to_numpy()], sort=False)

    def rolling(values: np.ndarray, w: int):
        return pd.Series(values).rolling(_KeyWindow(window_size=w, key_start=key_start), min_periods=1)

    cumulative = {}  # by input: the derived kinds read the running sums too

    def cum(fact: str) -> np.ndarray:
        if fact not in cumulative:
            cumulative[fact] = by_key[fact].cumsum().to_numpy()
        return cumulative[fact]

    def on_hand() -> np.ndarray:
        return cum("units_received") - cum("units_sold") + cum("units_returned")

    def sale_weeks(fact: str):
        return pd.Series(np.where(series[fact] > 0, i, np.nan)).groupby(kid, sort=False)

    def compute(f) -> np.ndarray:
        """One declared feature, by its kind (features.md's definitions)."""
        x = series.get(f.input)
        if f.kind == "fact":
            return x
        if f.kind == "lag":
            return by_key[f.input].shift(f.param).to_numpy()
        if f.kind == "ewm":
            return _ewm_by_key(x, key_rows, n_weeks, f.param)
        if f.kind == "mean":
            return rolling(x, f.param).mean().to_numpy()
        if f.kind == "std":
            return _trailing_std(x, i, f.param)
        if f.kind == "max":
            return rolling(x, f.param).max().to_numpy()
        if f.kind == "zero_share":
            return rolling((x == 0).astype(np.float64), f.param).mean().to_numpy()
        if f.kind == "slope":
            return _trailing_slope(x, i, f.param)
        if f.kind == "cumulative":
            return cum(f.input)
        if f.kind == "year_to_date":
            return by_key_year[f.input].cumsum().to_numpy()
        if f.kind == "weeks_since_first":
            since_first = i - sale_weeks(f.input).transform("min").to_numpy()
            return np.where(since_first >= 0, since_first, np.nan)
        if f.kind == "weeks_since_last":
            return i - sale_weeks(f.input).ffill().to_numpy()
        if f.kind == "on_hand":
            return on_hand()
        if f.kind == "on_order":
            return np.maximum(cum("units_ordered") - cum("units_received"), 0.0)
        if f.kind == "cover":
            ewm = _ewm_by_key(x, key_rows, n_weeks, f.param)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(ewm > 0, on_hand() / ewm, np.nan)
        if f.kind == "avg_price":
            # units_sold >= 0, so the window's sum is 0 exactly when its max
            # is 0; the max is exact where a moving sum might leave a residue.
            sold = series["units_sold"]
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(rolling(sold, f.param).max().to_numpy() > 0,
                                rolling(series["revenue"], f.param).sum().to_numpy()
                                / rolling(sold, f.param).sum().to_numpy(), np.nan)
        if f.kind == "last_unit_cost":
            return _last_invoice_unit_cost(invoices, kid)
        raise ValueError(f"feature {f.name}: no reference for kind {f.kind}")

    col = _Columns(n_rows, [f.name for f in features])
    for f in features:
        col[f.name] = compute(f)

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
