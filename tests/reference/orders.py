"""Reference forecasts and order recommendations (forecast-and-orders.md).

Plain Python, written from the contract text alone (no statsforecast), so the
tests can hold both the database and statsforecast against it.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from fractions import Fraction

DEMAND_WEEKS = 104
ALPHA = 0.1
SBA_FACTOR = 0.95


def ses(values: list[float], alpha: float = ALPHA) -> float:
    """Simple exponential smoothing started at the first value; the last level.

    Evaluated as `alpha*y_t + (1-alpha)*f`, the contract's order of operations.
    """
    f = float(values[0])
    for v in values[1:]:
        f = alpha * float(v) + (1 - alpha) * f
    return f


def intervals(y: list[float]) -> list[int]:
    """Gaps between weeks with sales, the first counted from the start of y
    (1-based positions, differenced); weeks after the last sale add nothing."""
    positions = [t + 1 for t, v in enumerate(y) if v > 0]
    return [b - a for a, b in zip([0] + positions[:-1], positions)]


def croston_sba(y: list[float]) -> float:
    """Croston with the Syntetos-Boylan correction: 0.95 * z / p, where z and p are
    the SES levels of the non-zero sizes and of the intervals. Needs a sale in y."""
    sizes = [float(v) for v in y if v > 0]
    return SBA_FACTOR * ses(sizes) / ses([float(p) for p in intervals(y)])


def demand_class(y: list[float]) -> str:
    """smooth / erratic / intermittent / lumpy by ADI and CV2, or no_demand.

    Both thresholds are decided in exact rational arithmetic on the given
    floats: sizes [17, 3, 10] have CV2 = 49/100 exactly (lumpy or erratic),
    although (7.0 / 10.0) ** 2 evaluates to 0.48999999999999994 in floats.
    """
    sizes = [Fraction(float(v)) for v in y if v > 0]
    k = len(sizes)
    if k == 0:
        return "no_demand"
    gaps = intervals(y)
    adi = Fraction(sum(gaps), len(gaps))
    if k == 1:
        cv2 = Fraction(0)
    else:
        mean = sum(sizes) / k
        variance = sum((v - mean) ** 2 for v in sizes) / (k - 1)
        cv2 = variance / mean**2  # = (std / mean)^2, with no square root to round
    smooth_timing = adi < Fraction(132, 100)
    stable_size = cv2 < Fraction(49, 100)
    if smooth_timing:
        return "smooth" if stable_size else "erratic"
    return "intermittent" if stable_size else "lumpy"


def demand_class_and_forecast(y: list[float]) -> tuple[str, str | None, float]:
    """(demand_class, method, forecast per week) for a key's weekly units_sold.

    `y` may be the key's whole history up to end_week: only its last 104 weeks
    are used. method is 'ses', 'croston_sba', or None for no_demand (forecast 0).
    """
    y = [float(v) for v in list(y)[-DEMAND_WEEKS:]]
    cls = demand_class(y)
    if cls == "no_demand":
        return cls, None, 0.0
    if cls in ("smooth", "erratic"):
        return cls, "ses", ses(y)
    return cls, "croston_sba", croston_sba(y)


def forecasts_for_key(
    y: list[float],
    end_week: dt.date,
    horizon_weeks: int,
    product_id: str | None = None,
    location_id: str | None = None,
) -> list[dict]:
    """The `forecasts` rows of one key: h = 1..horizon_weeks, the same yhat each week."""
    cls, method, yhat = demand_class_and_forecast(y)
    return [
        {
            "product_id": product_id,
            "location_id": location_id,
            "as_of_week": end_week,
            "target_week": end_week + dt.timedelta(days=7 * h),
            "yhat": yhat,
            "method": method,
            "demand_class": cls,
        }
        for h in range(1, horizon_weeks + 1)
    ]


def _null(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def recommend(features_row_at_end_week: dict, forecast, eff: dict) -> dict:
    """The pipeline-owned figures of a `recommendations` row (steps 1-6).

    `forecast` is the tuple from demand_class_and_forecast (or a bare forecast
    per week, leaving demand_class and method None). `features_row_at_end_week`
    needs sold_std_13, est_on_hand and on_order; `eff` holds the effective
    discontinued, assorted, location_enabled, lead_time_days, min_order_qty,
    order_multiple, review_period_weeks and service_level.
    """
    if isinstance(forecast, (tuple, list)):
        cls, method, f = forecast
    else:
        cls, method, f = None, None, forecast
    f = float(f)

    if eff["discontinued"]:
        reason = "discontinued"
    elif not eff["assorted"]:
        reason = "not_assorted"
    elif not eff["location_enabled"]:
        reason = "location_disabled"
    else:
        reason = None

    lead_time_weeks = float(eff["lead_time_days"]) / 7
    review = float(eff["review_period_weeks"])
    std = features_row_at_end_week["sold_std_13"]
    sigma = 0.0 if _null(std) else float(std)
    service_level = float(eff["service_level"])
    z = statistics.NormalDist().inv_cdf(service_level)
    safety_stock = z * sigma * math.sqrt(lead_time_weeks + review)
    order_up_to = f * (lead_time_weeks + review) + safety_stock
    inventory_position = max(float(features_row_at_end_week["est_on_hand"]), 0.0) + float(
        features_row_at_end_week["on_order"]
    )
    raw_qty = order_up_to - inventory_position

    if reason is not None or raw_qty <= 0:
        recommended_qty = 0.0
    else:
        multiple = float(eff["order_multiple"])
        q = max(raw_qty, float(eff["min_order_qty"]))
        # the 1e-9 keeps an exact multiple that float arithmetic nudged up from
        # rounding to the next multiple
        recommended_qty = math.ceil(q / multiple - 1e-9) * multiple
    if reason is None:
        reason = "reorder" if recommended_qty > 0 else "sufficient_stock"

    return {
        "demand_class": cls,
        "method": method,
        "forecast_per_week": f,
        "sigma": sigma,
        "lead_time_weeks": lead_time_weeks,
        "review_period_weeks": eff["review_period_weeks"],
        "service_level": service_level,
        "z": z,
        "safety_stock": safety_stock,
        "order_up_to": order_up_to,
        "inventory_position": inventory_position,
        "raw_qty": raw_qty,
        "recommended_qty": float(recommended_qty),
        "reason": reason,
    }
