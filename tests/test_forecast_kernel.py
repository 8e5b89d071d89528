"""The forecast and order kernel against the spec, statsforecast and itself.

forecast-and-orders.md fixes the formulas; statsforecast is the reference
for the two forecasting methods; the batch functions must equal the per-key
ones on any input.
"""

import ast
import math
import statistics
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsforecast.models import CrostonSBA, SimpleExponentialSmoothing

from pyloader.kernels import forecast as fk

SPEC_Y = [0, 3, 0, 0, 5, 0, 2, 0, 0, 0, 4, 1]
REL = 1e-9  # the contract's tolerance
# 50 whole-unit sales whose CV2 is exactly 49/100, while
# (np.std(ddof=1) / np.mean) ** 2 evaluates to 0.48999999999999994.
CV2_TIE = [
    37, 31, 7, 15, 27, 33, 4, 13, 1, 12, 13, 27, 24, 21, 6, 7, 39, 42, 2, 10,
    38, 2, 25, 25, 23, 5, 3, 43, 28, 4, 1, 6, 28, 19, 16, 25, 1, 55, 33, 36,
    42, 4, 9, 26, 13, 8, 17, 30, 26, 38,
]  # fmt: skip


def approx(value):
    return pytest.approx(value, rel=REL, abs=0)


# ---------------------------------------------------------------- spec values


def test_spec_check_croston_sba():
    assert fk.classify_and_forecast(SPEC_Y) == ("intermittent", "croston_sba", approx(1.303850620093827))


def test_spec_check_ses():
    assert fk._ses([float(v) for v in SPEC_Y]) == approx(0.9218499820300002)


def test_spec_check_z():
    rec = fk.recommend(1, 0, 0, 0, 14, 1, 0.95, 1, 1, False, True, True)
    assert rec["z"] == approx(1.6448536269514722)


def test_spec_example_classified_from_first_principles():
    # sales at weeks 2, 5, 7, 11, 12: intervals 2, 3, 2, 4, 1 -> ADI 2.4;
    # sizes 3, 5, 2, 4, 1 -> mean 3, variance 2.5 -> CV2 = 2.5 / 9
    assert statistics.mean([2, 3, 2, 4, 1]) >= 1.32
    assert 2.5 / 9 < 0.49
    assert fk.classify_and_forecast(SPEC_Y)[0] == "intermittent"


# ---------------------------------------------------------------- classes


def expected_class(y):
    """Independent statement of the class rule, in exact rational arithmetic."""
    y = list(y)[-104:]
    positions = [i + 1 for i, v in enumerate(y) if v > 0]
    if not positions:
        return "no_demand"
    sizes = [Fraction(v) for v in y if v > 0]
    adi = statistics.mean(np.diff([0] + positions).tolist())
    cv2 = statistics.variance(sizes) / statistics.mean(sizes) ** 2 if len(sizes) > 1 else 0
    high_adi, high_cv2 = adi >= Fraction("1.32"), cv2 >= Fraction("0.49")
    return {
        (False, False): "smooth",
        (False, True): "erratic",
        (True, False): "intermittent",
        (True, True): "lumpy",
    }[(high_adi, high_cv2)]


@pytest.mark.parametrize(
    "y, demand_class",
    [
        ([], "no_demand"),
        ([0], "no_demand"),
        ([0.0] * 104, "no_demand"),
        ([7], "smooth"),  # one sale in week 1: ADI 1, CV2 0
        ([5, 5, 5, 5], "smooth"),
        ([1, 10, 1, 10, 1, 30], "erratic"),
        ([0, 4, 0, 4, 0, 4], "intermittent"),
        ([0, 1, 0, 0, 20, 0, 1], "lumpy"),
        ([0, 0, 0, 0, 0, 0, 9], "intermittent"),  # one sale at the end: ADI 7
        ([0] * 30 + [1] * 25 + [0] * 10, "intermittent"),  # ADI 55 / 25, CV2 0
    ],
)
def test_demand_class(y, demand_class):
    assert fk.classify_and_forecast(y)[0] == demand_class
    assert expected_class(y) == demand_class


def test_adi_exactly_at_cut_is_intermittent():
    # 25 sales, the last at week 33: ADI = 33 / 25 = 1.32 exactly
    y = [0] * 8 + [2] * 25 + [0] * 4
    assert fk.classify_and_forecast(y)[0] == "intermittent"
    assert fk.classify_and_forecast(y[1:])[0] == "smooth"  # ADI 32 / 25


def test_cv2_exactly_at_cut_is_high():
    sizes = np.array(CV2_TIE, dtype=float)
    assert (np.std(sizes, ddof=1) / np.mean(sizes)) ** 2 < 0.49  # the float trap
    assert fk._cv2_exact(CV2_TIE) == fk.CV2_CUT_EXACT
    assert fk.classify_and_forecast(CV2_TIE)[0] == "erratic"
    # a hair less variable: both ways of computing agree it is below the cut
    assert fk.classify_and_forecast(CV2_TIE[:-1] + [37])[0] == "smooth"


def test_only_last_104_weeks_count():
    y = [50.0] * 46 + [0.0] * 100 + [3.0, 0, 0, 4]
    assert fk.classify_and_forecast(y) == fk.classify_and_forecast(y[-104:])
    assert fk.classify_and_forecast(y)[0] == "intermittent"
    keys = [y, [1.0, 2.0], [9.0] * 5 + [1.0] * 105]
    out = fk.forecast_batch([v for k in keys for v in k], [len(k) for k in keys])
    assert out["demand_class"] == ["intermittent", "smooth", "smooth"]
    assert out["forecast_per_week"][2] == 1.0


# ---------------------------------------------------------------- statsforecast


def sf_ses(y):
    return float(SimpleExponentialSmoothing(alpha=0.1).forecast(y=np.asarray(y, float), h=1)["mean"][0])


def sf_croston_sba(y):
    return float(CrostonSBA().forecast(y=np.asarray(y, float), h=1)["mean"][0])


def reference_series():
    """~100 series: edge cases first, then random ones of every class."""
    rng = np.random.default_rng(20240611)
    series = [
        [0.0],
        [4.0],
        [0.0] * 104,
        [0.0] * 103 + [6.0],  # a single sale, at the end
        [5.0] + [0.0] * 103,  # a single sale, at the start
        [0.0] * 50 + [2.0] + [0.0] * 53,  # a single sale in the middle
        [0.0] * 100 + [1.0, 8.0, 2.0, 5.0],  # sales only at the end
        [3.0] * 104,
        list(rng.integers(1, 40, 104).astype(float)),
        SPEC_Y,
        CV2_TIE,
        [0.5, 0.0, 0.25, 0.0, 0.0, 1.75],
    ]
    while len(series) < 100:
        n = int(rng.integers(1, 105)) if len(series) % 3 else 104
        p_sale = rng.choice([0.05, 0.2, 0.5, 0.8, 1.0])
        scale = rng.choice([1.0, 5.0, 50.0])
        sizes = rng.poisson(scale, n) + 1 if rng.random() < 0.7 else rng.gamma(0.7, scale, n) + 0.01
        y = np.where(rng.random(n) < p_sale, sizes, 0.0).astype(float)
        series.append(y.tolist())
    return series


REFERENCE_SERIES = reference_series()


def test_reference_series_cover_every_class():
    classes = {fk.classify_and_forecast(y)[0] for y in REFERENCE_SERIES}
    assert classes == set(fk.DEMAND_CLASSES)


@pytest.mark.parametrize("y", REFERENCE_SERIES, ids=range(len(REFERENCE_SERIES)))
def test_against_statsforecast(y):
    demand_class, method, f = fk.classify_and_forecast(y)
    assert demand_class == expected_class(y)
    if demand_class == "no_demand":
        assert (method, f) == (None, 0.0)
        assert sf_croston_sba(y) == 0.0  # statsforecast's naive fallback on zeros
        return
    if demand_class in ("smooth", "erratic"):
        assert method == "ses"
        assert f == approx(sf_ses(y))
    else:
        assert method == "croston_sba"
        assert f == approx(sf_croston_sba(y))
    # both methods agree with statsforecast whichever the class chose
    sizes = [v for v in y if v > 0]
    intervals = np.diff([0] + [i + 1 for i, v in enumerate(y) if v > 0]).astype(float).tolist()
    assert fk._ses(y) == approx(sf_ses(y))
    assert fk._croston_sba(sizes, intervals) == approx(sf_croston_sba(y))


def test_ses_matches_pandas_ewm():
    pd = pytest.importorskip("pandas")
    y = REFERENCE_SERIES[8]
    assert fk._ses(y) == approx(pd.Series(y).ewm(alpha=0.1, adjust=False).mean().iloc[-1])


def test_batch_against_statsforecast():
    out = fk.forecast_batch([v for y in REFERENCE_SERIES for v in y], [len(y) for y in REFERENCE_SERIES])
    for y, demand_class, f in zip(REFERENCE_SERIES, out["demand_class"], out["forecast_per_week"]):
        if demand_class in ("smooth", "erratic"):
            assert f == approx(sf_ses(y))
        elif demand_class != "no_demand":
            assert f == approx(sf_croston_sba(y))


# ---------------------------------------------------------------- batch == per key

week_values = st.one_of(
    st.just(0.0),
    st.just(0.0),
    st.integers(1, 60).map(float),
    st.floats(0.001, 5000, allow_nan=False, allow_infinity=False),
)
key_series = st.one_of(
    st.lists(week_values, min_size=0, max_size=30),
    st.lists(week_values, min_size=95, max_size=130),  # around the 104-week cut
)


@settings(max_examples=150, deadline=None)
@given(st.lists(key_series, min_size=0, max_size=12))
def test_forecast_batch_equals_per_key(keys):
    out = fk.forecast_batch([v for y in keys for v in y], [len(y) for y in keys])
    assert set(out) == set(fk.FORECAST_COLUMNS)
    got = list(zip(out["demand_class"], out["method"], out["forecast_per_week"]))
    assert got == [fk.classify_and_forecast(y) for y in keys]  # exact, not approximate


def test_forecast_batch_decides_cv2_ties_as_per_key():
    # other keys change the padding, hence the float summation, of the tie
    keys = [[1.0] * 104, CV2_TIE, [0.0, 2.0] * 40, CV2_TIE[::-1]]
    out = fk.forecast_batch([v for y in keys for v in y], [len(y) for y in keys])
    assert out["demand_class"] == ["smooth", "erratic", "intermittent", "erratic"]


order_inputs = st.tuples(
    st.floats(0, 500),  # forecast
    st.one_of(st.none(), st.floats(0, 200)),  # sigma
    st.floats(-300, 3000),  # est_on_hand
    st.floats(0, 1000),  # on_order
    st.integers(0, 120).map(float),  # lead_time_days
    st.integers(1, 8).map(float),  # review_period_weeks
    st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999]),
    st.sampled_from([1.0, 6.0, 12.0, 100.0, 2.5]),  # min_order_qty
    st.sampled_from([1.0, 5.0, 6.0, 24.0, 0.5]),  # order_multiple
    st.booleans(),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(order_inputs, min_size=0, max_size=20))
def test_recommend_batch_equals_per_key(rows):
    columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in range(12)]
    out = fk.recommend_batch(*columns)
    assert set(out) == set(fk.RECOMMEND_COLUMNS)
    for i, row in enumerate(rows):
        assert {name: out[name][i] for name in fk.RECOMMEND_COLUMNS} == fk.recommend(*row)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(key_series, order_inputs), min_size=1, max_size=8))
def test_batch_equals_per_key(keys):
    series = [y for y, _ in keys]
    others = [list(c) for c in zip(*[row[1:] for _, row in keys])]
    out = fk.batch([v for y in series for v in y], [len(y) for y in series], *others)
    assert set(out) == set(fk.BATCH_COLUMNS)
    for i, (y, row) in enumerate(keys):
        demand_class, method, f = fk.classify_and_forecast(y)
        assert (out["demand_class"][i], out["method"][i], out["forecast_per_week"][i]) == (demand_class, method, f)
        expected = fk.recommend(f, *row[1:])
        assert {name: out[name][i] for name in fk.RECOMMEND_COLUMNS} == expected


def test_batch_accepts_numpy_arrays_and_empty_input():
    out = fk.batch(np.array([1.0, 2.0]), np.array([2]), np.array([0.5]), *[np.array([v]) for v in (0.0, 0.0, 7.0, 1.0, 0.9, 1.0, 1.0)],
                   np.array([False]), np.array([True]), np.array([True]))  # fmt: skip
    assert out["reason"] == ["reorder"]
    empty = fk.batch([], [], *[[] for _ in range(11)])
    assert empty == {name: [] for name in fk.BATCH_COLUMNS}


def test_y_flat_as_float8send_bytes():
    # what string_agg(float8send(x), ''::bytea) hands to PL/Python
    keys = [SPEC_Y, [], [2.5, 0.0, 1.0]]
    flat = [float(v) for y in keys for v in y]
    as_bytes = b"".join(struct.pack(">d", v) for v in flat)
    lengths = [len(y) for y in keys]
    assert fk.forecast_batch(as_bytes, lengths) == fk.forecast_batch(flat, lengths)
    assert fk.forecast_batch(memoryview(as_bytes), lengths) == fk.forecast_batch(flat, lengths)
    with pytest.raises(ValueError, match="not a whole number of float8"):
        fk.forecast_batch(as_bytes[:-1], lengths)


# ---------------------------------------------------------------- recommend

BASE = dict(
    forecast=2.0,
    sigma=1.5,
    est_on_hand=3.0,
    on_order=1.0,
    lead_time_days=14,
    review_period_weeks=1,
    service_level=0.95,
    min_order_qty=1,
    order_multiple=1,
    discontinued=False,
    assorted=True,
    location_enabled=True,
)


def rec(**changes):
    """recommend() and recommend_batch() on one key; both must agree."""
    args = {**BASE, **changes}
    one = fk.recommend(**args)
    many = fk.recommend_batch(**{name: [value] for name, value in args.items()})
    assert {name: values[0] for name, values in many.items()} == one
    for qty in (one["recommended_qty"], many["recommended_qty"][0]):
        assert math.copysign(1.0, qty) == 1.0  # 0.0, never -0.0
    return one


def test_worked_example():
    z = 1.6448536269514722
    r = rec()
    assert r["lead_time_weeks"] == 2.0
    assert r["review_period_weeks"] == 1.0
    assert r["sigma"] == 1.5
    assert r["safety_stock"] == approx(z * 1.5 * math.sqrt(3))
    assert r["order_up_to"] == approx(2.0 * 3 + z * 1.5 * math.sqrt(3))
    assert r["inventory_position"] == 4.0
    assert r["raw_qty"] == approx(6.0 + z * 1.5 * math.sqrt(3) - 4.0)  # 6.27...
    assert (r["recommended_qty"], r["reason"]) == (7.0, "reorder")


def test_lead_time_in_weeks_and_null_sigma():
    r = rec(lead_time_days=10, sigma=None)
    assert r["lead_time_weeks"] == approx(10 / 7)
    assert (r["sigma"], r["safety_stock"]) == (0.0, 0.0)
    assert r["order_up_to"] == approx(2.0 * (10 / 7 + 1))


def test_negative_on_hand_counts_as_zero():
    assert rec(est_on_hand=-25.0, on_order=2.0)["inventory_position"] == 2.0


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"discontinued": True}, "discontinued"),
        ({"assorted": False}, "not_assorted"),
        ({"location_enabled": False}, "location_disabled"),
        ({"discontinued": True, "assorted": False, "location_enabled": False}, "discontinued"),
        ({"assorted": False, "location_enabled": False}, "not_assorted"),
        ({}, "reorder"),
        ({"est_on_hand": 1000.0}, "sufficient_stock"),
    ],
)
def test_reasons(changes, reason):
    r = rec(**changes)
    assert r["reason"] == reason
    assert (r["recommended_qty"] > 0) == (reason == "reorder")


@pytest.mark.parametrize("block", [{"discontinued": True}, {"assorted": False}, {"location_enabled": False}])
def test_blocked_keys_still_compute_steps_2_to_6(block):
    blocked, open_ = rec(**block), rec()
    assert blocked["recommended_qty"] == 0.0
    for name in ("z", "safety_stock", "order_up_to", "inventory_position", "raw_qty"):
        assert blocked[name] == open_[name]
    assert blocked["raw_qty"] > 0


def test_raw_qty_zero_is_sufficient_stock():
    # f * (L + R) = 6 exactly, no safety stock, 6 on hand
    r = rec(sigma=0.0, est_on_hand=6.0, on_order=0.0)
    assert (r["raw_qty"], r["recommended_qty"], r["reason"]) == (0.0, 0.0, "sufficient_stock")


def qty_for_raw(raw, **changes):
    """Recommended qty when raw_qty is exactly `raw` (no forecast, no sigma)."""
    r = rec(forecast=0.0, sigma=0.0, est_on_hand=0.0, on_order=-raw, **changes)
    assert r["raw_qty"] == raw
    return r["recommended_qty"]


@pytest.mark.parametrize(
    "raw, moq, multiple, qty",
    [
        (3.0, 1, 1, 3.0),
        (3.2, 1, 1, 4.0),
        (3.0, 10, 1, 10.0),  # the minimum order wins
        (3.0, 12, 5, 15.0),  # the minimum, then the multiple
        (11.0, 5, 5, 15.0),
        (10.0, 1, 5, 10.0),
        (10.0000000001, 1, 5, 10.0),  # 2.00000000002 - 1e-9 < 2
        (10.000000004, 1, 5, 10.0),  # 2.0000000008 - 1e-9 < 2
        (10.000000006, 1, 5, 15.0),  # 2.0000000012 - 1e-9 > 2
        (10.00000001, 1, 5, 15.0),
        (3.0000000009, 1, 1, 3.0),
        (3.0000000011, 1, 1, 4.0),
        (0.7, 0.5, 0.5, 1.0),
        (1e-12, 0, 1, 0.0),  # rounds to nothing: not a reorder, and not -0.0
    ],
)
def test_rounding(raw, moq, multiple, qty):
    assert qty_for_raw(raw, min_order_qty=moq, order_multiple=multiple) == qty


def test_rounding_slack_is_in_multiples_not_units():
    # 1e-9 of a multiple of 1000 is 1e-6 units: 1000.0000005 still rounds down
    assert qty_for_raw(1000.0000005, order_multiple=1000) == 1000.0
    assert qty_for_raw(1000.000002, order_multiple=1000) == 2000.0


def test_service_level_drives_z():
    assert rec(service_level=0.5)["z"] == 0.0
    assert rec(service_level=0.999)["z"] == approx(3.090232306167813)
    assert rec(service_level=0.9)["safety_stock"] < rec(service_level=0.99)["safety_stock"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "y_flat, lengths, message",
    [
        ([1.0, None], [2], "y_flat: NULL at index 1"),
        ([1.0, float("nan")], [2], "y_flat: nan at index 1"),
        ([1.0, 2.0], [1], "lengths sum to 1"),
        ([1.0, 2.0], [3, -1], "lengths: negative at index 1"),
        ([1.0], [None], "lengths: NULL at index 0"),
    ],
)
def test_forecast_batch_refuses_bad_input(y_flat, lengths, message):
    with pytest.raises(ValueError, match=message):
        fk.forecast_batch(y_flat, lengths)


def test_recommend_refuses_bad_input():
    args = {name: [value] for name, value in BASE.items()}
    with pytest.raises(ValueError, match="order_multiple must be > 0"):
        fk.recommend_batch(**{**args, "order_multiple": [0.0]})
    with pytest.raises(ValueError, match="order_multiple must be > 0"):
        fk.recommend(**{**BASE, "order_multiple": 0})
    with pytest.raises(ValueError, match="est_on_hand: NULL at index 0"):
        fk.recommend_batch(**{**args, "est_on_hand": [None]})
    with pytest.raises(ValueError, match="assorted: NULL at index 0"):
        fk.recommend_batch(**{**args, "assorted": [None]})
    with pytest.raises(ValueError, match="on_order: 2 values for 1 keys"):
        fk.recommend_batch(**{**args, "on_order": [1.0, 2.0]})
    with pytest.raises(ValueError, match="service_level: inf at index 0"):
        fk.recommend_batch(**{**args, "service_level": [float("inf")]})
    with pytest.raises(ValueError, match="p must be in the range"):
        fk.recommend_batch(**{**args, "service_level": [1.0]})


# ---------------------------------------------------------------- embedding


SOURCE = Path(fk.__file__).read_text()


def test_module_is_self_contained_and_inert():
    """Only stdlib/numpy imports, and nothing but definitions at top level."""
    tree = ast.parse(SOURCE)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add(node.module.split(".")[0])
    assert imported <= {"array", "math", "fractions", "statistics", "numpy"}
    for node in tree.body:
        if isinstance(node, ast.Expr):
            assert isinstance(node.value, ast.Constant)  # the docstring
        else:
            assert isinstance(node, ast.Import | ast.ImportFrom | ast.Assign | ast.FunctionDef)


def test_module_runs_when_exec_d_like_pl_python():
    namespace = {}
    exec(compile(SOURCE, "forecast.py", "exec"), namespace)
    out = namespace["batch"](SPEC_Y, [len(SPEC_Y)], [None], [0.0], [0.0], [14], [1], [0.95], [1], [1], [False], [True], [True])
    assert out["forecast_per_week"] == [approx(1.303850620093827)]
    assert out["reason"] == ["reorder"]
