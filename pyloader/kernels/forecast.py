"""Forecast and order kernel: demand class, forecast per week, order-up-to.

Implements forecast-and-orders.md, sections "Demand series and class",
"Forecast per week" and "Recommendation: periodic review, order up to".
Figures match statsforecast's ``SimpleExponentialSmoothing(alpha=0.1)`` and
``CrostonSBA()`` (same operations in the same order, so normally bit for bit).

This file runs in two places: in pytest, and inside PostgreSQL's PL/Python
(Debian Python 3.11, Debian numpy 1.24), where ``masterfile.forecast_batch``
(sql/control/025_forecast_kernel.sql) calls ``batch``: `pyloader migrate`
embeds this source in that function's body, which exec()s it once per session
into a module kept in GD (pyloader/plpython.py). Hence: imports are the
standard library and numpy only, nothing happens at import, and nothing relies
on the module being registered in ``sys.modules``.

Per-key reference functions (readable statements of the spec; the tests prove
the batch functions give the same results):

    classify_and_forecast(y) -> (demand_class, method, forecast_per_week)
    recommend(forecast, <the recommendation inputs>) -> dict, keys RECOMMEND_COLUMNS

Batch entry points (many keys per call, vectorised across keys):

    batch(y_flat, lengths, <the recommendation inputs>) -> dict, keys BATCH_COLUMNS
    forecast_batch(y_flat, lengths) -> dict, keys FORECAST_COLUMNS
    recommend_batch(forecast, <the recommendation inputs>)
        -> dict, keys RECOMMEND_COLUMNS (for input changes that leave the
           forecast alone, e.g. a UI setting)

where the recommendation inputs are sigma .. location_enabled below, in that
order; the SQL function's arguments are checked against ``batch``'s signature.

Arguments: ``lengths`` and every argument after it hold one element per key,
all in the same key order (a Python list, as PL/Python passes an array, or a
numpy array).

    y_flat      float8[]  every key's weekly units_sold, oldest week first,
                          key after key (key i owns the next lengths[i]
                          values). Or bytes holding the same values as
                          docs/weekly-series.md lays them out (what SQL
                          passes: it skips the list conversion in PL/Python
                          and here); series_to_bytes makes them.
    lengths     int4[]    weeks per key, 0 allowed (no_demand); their sum is
                          the number of values in y_flat. Only the last
                          MAX_WEEKS weeks of a longer series are used.
    sigma       float8[]  sold_std_13 at end_week; NULL elements mean 0
    est_on_hand, on_order, lead_time_days, review_period_weeks,
    service_level, min_order_qty, order_multiple
                float8[]  effective values, no NULL elements;
                          order_multiple > 0, 0 < service_level < 1
    discontinued, assorted, location_enabled
                bool[]    effective values, no NULL elements

Result: a dict of lists, one element per key in input order, keyed by
BATCH_COLUMNS = FORECAST_COLUMNS + RECOMMEND_COLUMNS:

    demand_class        text    no_demand|smooth|erratic|intermittent|lumpy
    method              text    ses|croston_sba, None for no_demand
    forecast_per_week   float8
    sigma               float8  NULL replaced by 0
    lead_time_weeks     float8  lead_time_days / 7
    review_period_weeks, service_level, z, safety_stock, order_up_to,
    inventory_position, raw_qty, recommended_qty
                        float8
    reason              text    discontinued|not_assorted|location_disabled|
                                reorder|sufficient_stock

PL/Python maps a returned dict onto OUT parameters by name: the SQL function
declares exactly these names as OUT arrays, which refresh_plans unnests.

Pass numbers as float8 (a numeric[] reaches PL/Python as Decimals: slower).
Bad input (a NULL where none is allowed, a NaN or infinity, mismatched
lengths, order_multiple <= 0) raises ValueError naming the argument and the
index; a service_level outside (0, 1) raises statistics.StatisticsError
(also a ValueError).
"""

import array
import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np

# the weeks of a series the forecast reads; SQL's masterfile.forecast_weeks()
# (tests/test_kernel_declarations.py holds the two equal)
MAX_WEEKS = 104
ALPHA = 0.1
COMPLEMENT = 1.0 - ALPHA  # as statsforecast computes it
SBA_FACTOR = 0.95
ADI_CUT = 1.32
CV2_CUT = 0.49
CV2_CUT_EXACT = Fraction(49, 100)
CV2_TIE_BAND = 1e-9  # far wider than float error, far narrower than real gaps
ROUNDING_SLACK = 1e-9

DEMAND_CLASSES = ("no_demand", "smooth", "erratic", "intermittent", "lumpy")
METHODS = (None, "ses", "ses", "croston_sba", "croston_sba")  # by class code
REASONS = ("discontinued", "not_assorted", "location_disabled", "reorder", "sufficient_stock")

FORECAST_COLUMNS = ("demand_class", "method", "forecast_per_week")
RECOMMEND_COLUMNS = (
    "sigma",
    "lead_time_weeks",
    "review_period_weeks",
    "service_level",
    "z",
    "safety_stock",
    "order_up_to",
    "inventory_position",
    "raw_qty",
    "recommended_qty",
    "reason",
)
BATCH_COLUMNS = FORECAST_COLUMNS + RECOMMEND_COLUMNS


# ---------------------------------------------------------------- per key


def classify_and_forecast(y):
    """Return (demand_class, method, forecast_per_week) for one key's weeks.

    ``y`` is the key's weekly units_sold, oldest first; only its last
    MAX_WEEKS values count. A week with sales is a week with ``y > 0``.
    """
    y = np.asarray(y, dtype=np.float64).ravel()[-MAX_WEEKS:]
    sale = y > 0
    k = int(np.count_nonzero(sale))
    if k == 0:
        return "no_demand", None, 0.0
    sizes = y[sale]
    # statsforecast's _intervals: 1-based positions of the sales, differenced,
    # the first measured from the start of the series.
    intervals = np.diff(np.flatnonzero(sale) + 1, prepend=0).astype(np.float64)
    code = _class_code(float(np.mean(intervals)), _cv2_high(sizes))
    if METHODS[code] == "ses":
        return DEMAND_CLASSES[code], "ses", _ses(y.tolist())
    return DEMAND_CLASSES[code], "croston_sba", _croston_sba(sizes.tolist(), intervals.tolist())


def recommend(
    forecast,
    sigma,
    est_on_hand,
    on_order,
    lead_time_days,
    review_period_weeks,
    service_level,
    min_order_qty,
    order_multiple,
    discontinued,
    assorted,
    location_enabled,
):
    """Periodic review, order up to, for one key; returns RECOMMEND_COLUMNS.

    Steps 2-6 are computed (and returned) even when a step-1 reason forces
    ``recommended_qty`` to 0.
    """
    if float(order_multiple) <= 0:
        raise ValueError(f"order_multiple must be > 0, got {order_multiple!r}")
    if discontinued:
        reason = "discontinued"
    elif not assorted:
        reason = "not_assorted"
    elif not location_enabled:
        reason = "location_disabled"
    else:
        reason = None

    f = float(forecast)
    s = 0.0 if sigma is None else float(sigma)
    lead = float(lead_time_days) / 7.0
    review = float(review_period_weeks)
    service = float(service_level)
    z = NormalDist().inv_cdf(service)
    safety_stock = z * s * math.sqrt(lead + review)
    order_up_to = f * (lead + review) + safety_stock
    inventory_position = max(float(est_on_hand), 0.0) + float(on_order)
    raw_qty = order_up_to - inventory_position

    qty = 0.0
    if reason is None and raw_qty > 0:
        multiple = float(order_multiple)
        q = max(raw_qty, float(min_order_qty))
        qty = math.ceil(q / multiple - ROUNDING_SLACK) * multiple  # q > 0: never < 0
    if reason is None:
        reason = "reorder" if qty > 0 else "sufficient_stock"

    return {
        "sigma": s,
        "lead_time_weeks": lead,
        "review_period_weeks": review,
        "service_level": service,
        "z": z,
        "safety_stock": safety_stock,
        "order_up_to": order_up_to,
        "inventory_position": inventory_position,
        "raw_qty": raw_qty,
        "recommended_qty": float(qty),
        "reason": reason,
    }


def _ses(values):
    """Last level of SES with alpha 0.1 started at the first value."""
    level = values[0]
    for v in values[1:]:
        level = ALPHA * v + COMPLEMENT * level
    return float(level)


def _croston_sba(sizes, intervals):
    # statsforecast: mean = ydp / yip (yip >= 1 here), then mean *= 0.95.
    return (_ses(sizes) / _ses(intervals)) * SBA_FACTOR


def _cv2_high(sizes):
    """CV2 >= 0.49 for these non-zero sizes (CV2 is 0 for a single sale).

    CV2 = (sample std / mean)^2. Near 0.49 the float result depends on the
    order of operations (a series whose CV2 is exactly 0.49 evaluates to
    0.48999999999999994), so there the comparison is made in exact
    rational arithmetic on the given values.
    """
    if sizes.size < 2:
        return False
    cv2 = float((np.std(sizes, ddof=1) / np.mean(sizes)) ** 2)
    if abs(cv2 - CV2_CUT) > CV2_TIE_BAND:
        return cv2 >= CV2_CUT
    return _cv2_exact(sizes.tolist()) >= CV2_CUT_EXACT


def _cv2_exact(sizes):
    # With S = sum, Q = sum of squares: var = (kQ - S^2) / (k(k-1)),
    # mean^2 = S^2 / k^2, so CV2 = k(kQ - S^2) / ((k-1) S^2).
    values = [Fraction(v) for v in sizes]
    k = len(values)
    total = sum(values)
    squares = sum(v * v for v in values)
    return k * (k * squares - total * total) / ((k - 1) * total * total)


def _class_code(adi, cv2_high):
    # ADI = (1-based position of the last sale) / k is a correctly rounded
    # quotient of small integers, so comparing it with 1.32 is exact.
    return 1 + 2 * (adi >= ADI_CUT) + bool(cv2_high)


# ---------------------------------------------------------------- batch


def batch(
    y_flat,
    lengths,
    sigma,
    est_on_hand,
    on_order,
    lead_time_days,
    review_period_weeks,
    service_level,
    min_order_qty,
    order_multiple,
    discontinued,
    assorted,
    location_enabled,
):
    """Forecast and recommend for many keys at once; see the module docstring."""
    out = forecast_batch(y_flat, lengths)
    out.update(
        recommend_batch(
            out["forecast_per_week"],
            sigma,
            est_on_hand,
            on_order,
            lead_time_days,
            review_period_weeks,
            service_level,
            min_order_qty,
            order_multiple,
            discontinued,
            assorted,
            location_enabled,
        )
    )
    return out


def forecast_batch(y_flat, lengths):
    """classify_and_forecast for many keys; returns lists keyed by FORECAST_COLUMNS."""
    y = _float_array("y_flat", y_flat)
    n_all = _int_array("lengths", lengths)
    if (n_all < 0).any():
        raise ValueError(f"lengths: negative at index {int(np.flatnonzero(n_all < 0)[0])}")
    if int(n_all.sum()) != y.size:
        raise ValueError(f"lengths sum to {int(n_all.sum())} but y_flat has {y.size} values")
    forecast, code = _forecast_arrays(y, n_all)
    classes = np.array(DEMAND_CLASSES, dtype=object)[code]
    methods = np.array(METHODS, dtype=object)[code]
    return {
        "demand_class": classes.tolist(),
        "method": methods.tolist(),
        "forecast_per_week": forecast.tolist(),
    }


def _forecast_arrays(y, n_all):
    """Forecast per week and class code per key, vectorised across keys."""
    n_keys = n_all.size
    n = np.minimum(n_all, MAX_WEEKS)
    width = int(n.max()) if n_keys else 0
    if width == 0:
        return np.zeros(n_keys), np.zeros(n_keys, dtype=np.intp)
    starts = np.cumsum(n_all) - n  # the last n weeks of each key
    cols = np.arange(width)

    # One row per key, weeks left-aligned, zero padding after the series
    # (padding is never a sale and is never smoothed: each row has its length).
    inside = cols < n[:, None]
    weeks = np.where(inside, y[np.where(inside, starts[:, None] + cols, 0)], 0.0)

    sale = weeks > 0
    k = np.count_nonzero(sale, axis=1)
    has_sales = k > 0
    # Pack each row's sales to the left, in week order: sizes and positions.
    order = np.argsort(~sale, axis=1, kind="stable")
    packed = cols < k[:, None]
    sizes = np.where(packed, np.take_along_axis(weeks, order, axis=1), 0.0)
    position = (order + 1).astype(np.float64)
    previous = np.concatenate([np.zeros((n_keys, 1)), position[:, :-1]], axis=1)
    intervals = np.where(packed, position - previous, 0.0)

    k_safe = np.maximum(k, 1).astype(np.float64)
    adi = intervals.sum(axis=1) / k_safe  # integer sum: exact, as np.mean per key
    mean = sizes.sum(axis=1) / k_safe
    mean_safe = np.where(has_sales, mean, 1.0)
    deviation = np.where(packed, sizes - mean[:, None], 0.0)
    variance = (deviation * deviation).sum(axis=1) / np.maximum(k - 1, 1)
    cv2 = np.where(k > 1, (np.sqrt(variance) / mean_safe) ** 2, 0.0)
    cv2_high = cv2 >= CV2_CUT
    # Near the cut, decide exactly, as the per-key function does.
    for i in np.flatnonzero((k > 1) & (np.abs(cv2 - CV2_CUT) <= CV2_TIE_BAND)):
        cv2_high[i] = _cv2_exact(sizes[i, : k[i]].tolist()) >= CV2_CUT_EXACT

    code = np.where(has_sales, 1 + 2 * (adi >= ADI_CUT) + cv2_high, 0)

    # One SES pass over the weeks, the sizes and the intervals of every key.
    last = _ses_rows(np.concatenate([weeks, sizes, intervals]), np.concatenate([n, k, k]))
    ses = last[:n_keys]
    z_level = last[n_keys : 2 * n_keys]
    p_level = np.where(has_sales, last[2 * n_keys :], 1.0)
    croston = (z_level / p_level) * SBA_FACTOR

    forecast = np.where(code >= 3, croston, np.where(code >= 1, ses, 0.0))
    return forecast, code


def _ses_rows(rows, lengths):
    """Last SES level of each row's first lengths[i] values (alpha 0.1)."""
    columns = np.ascontiguousarray(rows.T)
    level = columns[0].copy()
    for t in range(1, columns.shape[0]):
        live = lengths > t
        if not live.any():
            break
        np.copyto(level, ALPHA * columns[t] + COMPLEMENT * level, where=live)
    return level


def recommend_batch(
    forecast,
    sigma,
    est_on_hand,
    on_order,
    lead_time_days,
    review_period_weeks,
    service_level,
    min_order_qty,
    order_multiple,
    discontinued,
    assorted,
    location_enabled,
):
    """recommend for many keys; returns lists keyed by RECOMMEND_COLUMNS."""
    f = _float_array("forecast", forecast)
    n_keys = f.size
    s = _float_array("sigma", sigma, n_keys, null_as=0.0)
    on_hand = _float_array("est_on_hand", est_on_hand, n_keys)
    incoming = _float_array("on_order", on_order, n_keys)
    lead = _float_array("lead_time_days", lead_time_days, n_keys) / 7.0
    review = _float_array("review_period_weeks", review_period_weeks, n_keys)
    service = _float_array("service_level", service_level, n_keys)
    moq = _float_array("min_order_qty", min_order_qty, n_keys)
    multiple = _float_array("order_multiple", order_multiple, n_keys)
    if (multiple <= 0).any():
        i = int(np.flatnonzero(multiple <= 0)[0])
        raise ValueError(f"order_multiple must be > 0, got {float(multiple[i])!r} at index {i}")
    is_discontinued = _bool_array("discontinued", discontinued, n_keys)
    is_assorted = _bool_array("assorted", assorted, n_keys)
    is_enabled = _bool_array("location_enabled", location_enabled, n_keys)

    levels, inverse = np.unique(service, return_inverse=True)
    z_of_level = np.array([NormalDist().inv_cdf(float(v)) for v in levels], dtype=np.float64)
    z = z_of_level[inverse.reshape(-1)] if n_keys else np.zeros(0)

    safety_stock = z * s * np.sqrt(lead + review)
    order_up_to = f * (lead + review) + safety_stock
    inventory_position = np.maximum(on_hand, 0.0) + incoming
    raw_qty = order_up_to - inventory_position

    blocked = is_discontinued | ~is_assorted | ~is_enabled
    rounded = np.ceil(np.maximum(raw_qty, moq) / multiple - ROUNDING_SLACK) * multiple
    # rounded > 0 also keeps np.ceil's -0.0 (q tiny, below the slack) out
    qty = np.where(~blocked & (raw_qty > 0) & (rounded > 0), rounded, 0.0)
    reason = np.where(
        is_discontinued,
        0,
        np.where(~is_assorted, 1, np.where(~is_enabled, 2, np.where(qty > 0, 3, 4))),
    )
    return {
        "sigma": s.tolist(),
        "lead_time_weeks": lead.tolist(),
        "review_period_weeks": review.tolist(),
        "service_level": service.tolist(),
        "z": z.tolist(),
        "safety_stock": safety_stock.tolist(),
        "order_up_to": order_up_to.tolist(),
        "inventory_position": inventory_position.tolist(),
        "raw_qty": raw_qty.tolist(),
        "recommended_qty": qty.tolist(),
        "reason": np.array(REASONS, dtype=object)[reason].tolist(),
    }


# ---------------------------------------------------------------- weekly series as bytes

# docs/weekly-series.md: one float8 per week, as float8send() writes it
SERIES_DTYPE = np.dtype(">f8")


def series_to_bytes(values):
    """A weekly series (oldest week first) as SQL's string_agg(float8send(...)) makes it."""
    return np.asarray(values, dtype=np.float64).astype(SERIES_DTYPE).tobytes()


def series_from_bytes(data, name="series"):
    """The values of a weekly series held as bytes (bytes, bytearray or memoryview), as float64."""
    if len(data) % SERIES_DTYPE.itemsize:
        raise ValueError(f"{name}: {len(data)} bytes is not a whole number of float8")
    return np.frombuffer(data, dtype=SERIES_DTYPE).astype(np.float64)


# ---------------------------------------------------------------- input checks


def _nulls_replaced(name, values, null_as):
    """values as given, or a list with None replaced; None refused if null_as is None."""
    if values is None:
        raise ValueError(f"{name}: is NULL")
    if isinstance(values, np.ndarray):
        return values
    values = list(values)
    if None not in values:
        return values
    if null_as is None:
        raise ValueError(f"{name}: NULL at index {values.index(None)}")
    return [null_as if v is None else v for v in values]


def _float_array(name, values, size=None, null_as=None):
    if isinstance(values, np.ndarray):
        arr = values.astype(np.float64).reshape(-1)
    elif isinstance(values, (bytes, bytearray, memoryview)):
        arr = series_from_bytes(values, name)
    else:
        # array.array converts a list of floats about twice as fast as
        # np.asarray on numpy 1.24, and refuses None (TypeError) for free.
        try:
            arr = np.frombuffer(array.array("d", values), dtype=np.float64)
        except TypeError:
            arr = np.asarray(_nulls_replaced(name, values, null_as), dtype=np.float64).reshape(-1)
    if size is not None and arr.size != size:
        raise ValueError(f"{name}: {arr.size} values for {size} keys")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: {float(arr[i])!r} at index {i}")
    return arr


def _int_array(name, values):
    arr = np.asarray(_nulls_replaced(name, values, None)).reshape(-1)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name}: integers expected, got {arr.dtype}")
    return arr.astype(np.int64)


def _bool_array(name, values, size):
    arr = np.asarray(_nulls_replaced(name, values, None)).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{name}: {arr.size} values for {size} keys")
    if arr.size and arr.dtype != np.bool_:
        raise ValueError(f"{name}: booleans expected, got {arr.dtype}")
    return arr.astype(np.bool_)
