"""Forecasts and recommendations computed in the database (issue 6) equal an
independent implementation of forecast-and-orders.md: tests/reference/orders.py
over the pandas master file (tests/reference/features.py) and the contract's
effective-value rules written out here in Python. The forecasting methods are
also held against statsforecast on random series.
"""
from __future__ import annotations

import datetime as dt
import random

import numpy as np
import psycopg
import pytest
from statsforecast.models import CrostonSBA, SimpleExponentialSmoothing

from tests import lines
from tests.conftest import row_set, scalar
from tests.plan_checks import (
    AS_OF,
    END_WEEK,
    REC_FIGURES,
    REL,
    assert_plans_match,
    assert_plans_match_except,
    close,
    expected_plans,
    load_fake_erp,
    process,
    stored_plans,
)
from tests.reference import orders


def apply_ui_overrides(tenant) -> None:
    """One override of every kind, written as the UI writes them."""
    with tenant.connect("ui") as ui:
        ui.execute("UPDATE settings SET default_service_level = 0.9, horizon_weeks = 6")
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P00001', true)")
        ui.execute("INSERT INTO ui_product_settings (product_id, service_level) VALUES ('P00002', 0.99)")
        # P00003 is discontinued in the ERP (or not); the UI says it is not
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P00003', false)")
        ui.execute("INSERT INTO ui_assortments (product_id, location_id, assorted) VALUES ('P00004', 'L001', false)")
        ui.execute("INSERT INTO ui_location_settings (location_id, enabled) VALUES ('L003', false)")
        ui.execute("INSERT INTO ui_supplier_settings (supplier_id, min_order_qty, order_multiple, review_period_weeks)"
                   " VALUES ('S0002', 10, 6, 2)")


@pytest.fixture
def planned(tenant):
    """A tenant with the fake ERP's data, sparse test lines, UI overrides, computed."""
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    load_fake_erp(tenant)
    with tenant.connect("loader") as conn:
        # sparse and intermittent keys (P0.., L0..) that the fake ERP lacks,
        # on products, locations and a supplier the ERP never sent
        for table, rows in lines.generate(11).items():
            lines.insert(conn, table, rows)
        # a key with receipts but no sale: no_demand
        lines.insert(conn, "erp_receipt_lines", [dict(receipt_id="NOSALE", line_no=1, po_id=None, product_id="P9",
                                                      location_id="L0", received_date=dt.date(2025, 2, 3),
                                                      qty_received=12)])
        later = lines.UPDATED_AT + dt.timedelta(days=400)
        conn.execute("UPDATE erp_products SET deleted = true, updated_at = %s WHERE product_id = 'P00005'", (later,))
    apply_ui_overrides(tenant)
    process(tenant)
    return tenant


# ---------------------------------------------------------------- tests


def test_plans_match_reference_on_fake_erp_data(planned):
    with planned.connect() as conn:
        want, _ = assert_plans_match(conn)
    # the data exercises every branch worth checking
    reasons = {r["reason"] for r in want.values()}
    assert {"discontinued", "not_assorted", "location_disabled", "reorder", "sufficient_stock"} <= reasons
    classes = {r["demand_class"] for r in want.values()}
    assert classes == {"no_demand", "smooth", "erratic", "intermittent", "lumpy"}, classes
    assert any(r["review_period_weeks"] == 2 for r in want.values())


def test_plans_follow_ui_changes_and_reloads(planned):
    with planned.connect("ui") as ui:
        ui.execute("UPDATE ui_supplier_settings SET lead_time_days = 30, order_multiple = 4"
                   " WHERE supplier_id = 'S0002'")
        ui.execute("UPDATE ui_location_settings SET enabled = true WHERE location_id = 'L003'")
        ui.execute("INSERT INTO ui_location_settings (location_id, enabled) VALUES ('L002', false)")
        ui.execute("DELETE FROM ui_product_settings WHERE product_id = 'P00001'")
        ui.execute("UPDATE ui_assortments SET assorted = NULL")
        ui.execute("UPDATE settings SET default_lead_time_days = 3, default_service_level = 0.97, horizon_weeks = 9")
    process(planned)
    with planned.connect() as conn:
        assert_plans_match(conn)
    # the ERP's corrections, deletions and late lines
    load_fake_erp(planned, generation=2)
    process(planned)
    with planned.connect() as conn:
        assert_plans_match(conn)


# a key's forecasts stay one run of target weeks whichever way end_week moves:
# back past the horizon (all replaced), back within it (weeks added below),
# forward a week (a roll: one added above)
@pytest.mark.parametrize("days", [-70, -14, 7])
def test_end_week_move_recomputes_every_plan(planned, days):
    with planned.connect("ui") as ui:
        ui.execute("UPDATE settings SET as_of_date = %s", (AS_OF + dt.timedelta(days=days),))
    process(planned)
    with planned.connect() as conn:
        want, want_fcs = expected_plans(conn, END_WEEK + dt.timedelta(days=days))
        got, got_fcs = stored_plans(conn)
        assert set(got) == set(want)
        assert {r["as_of_week"] for r in got.values()} == {END_WEEK + dt.timedelta(days=days)}
        for key, w in want.items():
            assert all(close(got[key][c], w[c]) for c in REC_FIGURES), key
        assert set(got_fcs) == set(want_fcs)
        for key, w in want_fcs.items():
            assert close(got_fcs[key]["yhat"], w["yhat"]) and got_fcs[key]["as_of_week"] == w["as_of_week"], key


def test_a_key_that_disappears_loses_its_plan_unless_decided(planned):
    with planned.connect() as conn:
        keys = sorted(conn.execute("SELECT product_id, location_id FROM recommendations"
                                   " WHERE product_id LIKE 'P0____' ORDER BY 1, 2 LIMIT 2").fetchall())
    (p1, l1), (p2, l2) = keys
    with planned.connect("ui") as ui:
        ui.execute("UPDATE recommendations SET decision = 'approved', approved_qty = 7, decided_by = 'ann',"
                   " decided_at = now(), note = 'ok' WHERE product_id = %s AND location_id = %s", (p1, l1))
    with planned.connect("loader") as conn:
        later = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        for table in lines.LINE_TABLES:
            conn.execute(f"UPDATE {table} SET deleted = true, updated_at = %s"
                         " WHERE (product_id, location_id) IN ((%s, %s), (%s, %s))", (later, p1, l1, p2, l2))
    process(planned)
    with planned.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM forecasts WHERE (product_id, location_id) IN ((%s, %s), (%s, %s))",
                      (p1, l1, p2, l2)) == 0
        kept = conn.execute("SELECT recommended_qty, reason, decision, approved_qty, decided_by, note"
                            " FROM recommendations WHERE product_id = %s AND location_id = %s", (p1, l1)).fetchone()
        assert kept == (0.0, "inactive", "approved", 7.0, "ann", "ok")
        assert scalar(conn, "SELECT count(*) FROM recommendations WHERE product_id = %s AND location_id = %s",
                      (p2, l2)) == 0
        assert_plans_match_except(conn, {(p1, l1)})


def test_a_key_whose_first_line_is_after_end_week_has_no_plan(planned):
    with planned.connect("loader") as conn:
        lines.insert(conn, "erp_sales_lines", [dict(txn_id="FUT", line_no=1, product_id="P00006", location_id="L009",
                                                    business_date=AS_OF + dt.timedelta(days=3), qty=5, net_amount=5)])
    process(planned)
    with planned.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM _private_feature_keys WHERE location_id = 'L009'") == 1
        assert scalar(conn, "SELECT count(*) FROM recommendations WHERE location_id = 'L009'") == 0
        assert scalar(conn, "SELECT count(*) FROM forecasts WHERE location_id = 'L009'") == 0


def test_a_decided_recommendation_cannot_be_deleted(planned):
    with planned.connect("ui") as ui:
        ui.execute("UPDATE recommendations SET note = 'keep' WHERE product_id = 'P00002' AND location_id = 'L001'")
    # the pipeline's helper passes decided rows by, and the table refuses the
    # pipeline's own DELETE of one
    with planned.connect("pipeline") as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="holds a UI decision"):
            conn.execute("DELETE FROM recommendations WHERE product_id = 'P00002'")
        assert scalar(conn, "SELECT delete_undecided_recommendations(ARRAY['P00002', 'P00002'], ARRAY['L001', 'L002'])"
                      ) == 1
        left = row_set(conn, "SELECT location_id FROM recommendations WHERE product_id = 'P00002'")
        assert ("L001",) in left and ("L002",) not in left
    # and the table itself refuses, whoever asks
    with planned.connect() as conn, pytest.raises(psycopg.errors.IntegrityConstraintViolation,
                                                  match="holds a UI decision"):
        conn.execute("DELETE FROM recommendations WHERE product_id = 'P00002'")


# ---------------------------------------------------------------- statsforecast


def sf_ses(y) -> float:
    return float(SimpleExponentialSmoothing(alpha=0.1).forecast(y=np.asarray(y, float), h=1)["mean"][0])


def sf_croston_sba(y) -> float:
    return float(CrostonSBA().forecast(y=np.asarray(y, float), h=1)["mean"][0])


def random_series(rnd: random.Random) -> list[float]:
    n = rnd.choice([1, 2, 5, 13, 60, 104, 105, 160])
    kind = rnd.choice(["smooth", "erratic", "sparse", "lumpy", "zeros"])
    out = []
    for _ in range(n):
        if kind == "zeros":
            out.append(0.0)
        elif kind == "smooth":
            out.append(float(rnd.randint(5, 9)))
        elif kind == "erratic":
            out.append(float(rnd.choice([0, 1, 2, 30, 4])) if rnd.random() < 0.9 else 0.0)
        elif kind == "sparse":
            out.append(float(rnd.randint(3, 5)) if rnd.random() < 0.25 else 0.0)
        else:
            out.append(rnd.choice([1.0, 2.5, 40.0]) if rnd.random() < 0.2 else 0.0)
    return out


def test_forecasts_match_statsforecast_on_random_series(tenant):
    """Series written straight into features (as its owner), then refresh_plans as the pipeline."""
    rnd = random.Random(2024)
    series = {f"R{i:03d}": random_series(rnd) for i in range(120)}
    series["SPEC"] = [0, 3, 0, 0, 5, 0, 2, 0, 0, 0, 4, 1]
    with tenant.connect() as owner:
        owner.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
        with owner.cursor() as cur:
            cur.executemany(
                # est_on_hand 2 and on_order 0, read from the cumulative sums
                "INSERT INTO features (product_id, location_id, week_start, week_index, units_sold, sold_std_13,"
                " cum_units_received, cum_units_sold, cum_units_returned, cum_units_ordered)"
                " VALUES (%s, 'L', %s, %s, %s, 1.5, 2, 0, 0, 0)",
                [(p, END_WEEK - dt.timedelta(days=7 * (len(y) - 1 - i)), i, v)
                 for p, y in series.items() for i, v in enumerate(y)])
            # every key with stored rows is a known key (refresh_features keeps both)
            cur.executemany("INSERT INTO _private_feature_keys (product_id, location_id, first_week) VALUES (%s, 'L', %s)",
                            [(p, END_WEEK - dt.timedelta(days=7 * (len(y) - 1))) for p, y in series.items()])
    with tenant.connect("pipeline") as conn:
        written = scalar(conn, "SELECT refresh_plans(%s, %s)", (list(series), ["L"] * len(series)))
        assert written == len(series)  # one recommendation per key (forecasts are a view over them)
        got = {p: (c, m, f) for p, c, m, f in conn.execute(
            "SELECT product_id, demand_class, method, forecast_per_week FROM recommendations")}
    assert got["SPEC"] == ("intermittent", "croston_sba", pytest.approx(1.303850620093827, rel=REL))
    seen = set()
    for p, y in series.items():
        y104 = y[-104:]
        demand_class, method, f = got[p]
        seen.add(demand_class)
        assert demand_class == orders.demand_class(y104), p
        if method is None:
            assert demand_class == "no_demand" and f == 0.0
        elif method == "ses":
            assert f == pytest.approx(sf_ses(y104), rel=REL, abs=1e-12), p
        else:
            assert method == "croston_sba"
            assert f == pytest.approx(sf_croston_sba(y104), rel=REL, abs=1e-12), p
    assert seen == {"no_demand", "smooth", "erratic", "intermittent", "lumpy"}
