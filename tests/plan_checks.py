"""Checks shared by the plan and cycle tests: loading the fake ERP, running
the pipeline, and the contract's forecasts and recommendations computed
independently (tests/reference/orders.py over tests/reference/features.py,
effective values from the raw tables) to compare with what is stored."""
from __future__ import annotations

import datetime as dt

from pyloader import load, run
from pyloader.fake_erp import FakeErp, FakeErpServer
from tests import lines
from tests.conftest import scalar
from tests.reference import orders
from tests.reference.features import compute_master_file

AS_OF = dt.date(2025, 6, 30)  # the fake ERP's days end on Sunday 2025-06-29
END_WEEK = dt.date(2025, 6, 23)
FAKE_SIZE = "30x3x800"  # two suppliers, series longer than 104 weeks
REL = 1e-9

REC_FIGURES = ["forecast_per_week", "sigma", "lead_time_weeks", "service_level", "z", "safety_stock", "order_up_to",
               "inventory_position", "raw_qty", "recommended_qty"]
REC_TEXT = ["as_of_week", "demand_class", "method", "reason", "review_period_weeks"]
UI_COLUMNS = ["decision", "approved_qty", "decided_by", "decided_at", "note"]


def load_fake_erp(tenant, *, seed: int = 3, size: str = FAKE_SIZE, generation: int = 0) -> None:
    with FakeErpServer(FakeErp(seed, size, generation=generation)).start() as srv:
        results = load.load_api(tenant.client_id, srv.url, url=tenant.url)
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]


def process(tenant) -> dict:
    result = run.run_until_empty(tenant.client_id, tenant.url, progress=False)
    assert result["keys_failed"] == 0
    with tenant.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0
    return result


def _first(*values):
    for v in values:
        if v is not None:
            return v
    return None


def _by_key(conn, query: str, key: str) -> dict:
    cur = conn.execute(query)
    cols = [d.name for d in cur.description]
    return {r[cols.index(key)]: dict(zip(cols, r)) for r in cur.fetchall()}


def effective_values(conn) -> callable:
    """data-contract.md, "Effective values", from the raw tables (not the views)."""
    settings = dict(zip(["default_service_level", "default_lead_time_days"],
                        conn.execute("SELECT default_service_level, default_lead_time_days FROM settings").fetchone()))
    products = _by_key(conn, "SELECT * FROM erp_products WHERE NOT deleted", "product_id")
    suppliers = _by_key(conn, "SELECT * FROM erp_suppliers WHERE NOT deleted", "supplier_id")
    locations = _by_key(conn, "SELECT * FROM erp_locations WHERE NOT deleted", "location_id")
    ui_products = _by_key(conn, "SELECT * FROM ui_product_settings", "product_id")
    ui_suppliers = _by_key(conn, "SELECT * FROM ui_supplier_settings", "supplier_id")
    ui_locations = _by_key(conn, "SELECT * FROM ui_location_settings", "location_id")
    ui_assorted = {(p, l): a for p, l, a in
                   conn.execute("SELECT product_id, location_id, assorted FROM ui_assortments")}

    def eff(product_id: str, location_id: str) -> dict:
        prod = products.get(product_id, {})
        uip = ui_products.get(product_id, {})
        supplier_id = prod.get("supplier_id")
        sup = suppliers.get(supplier_id, {})
        uis = ui_suppliers.get(supplier_id, {})
        loc = locations.get(location_id, {})
        uil = ui_locations.get(location_id, {})
        erp_discontinued = None if prod.get("status") is None else prod["status"] == "discontinued"
        erp_open = None if loc.get("status") is None else loc["status"] == "open"
        return {
            "discontinued": _first(uip.get("discontinued"), erp_discontinued, False),
            "location_enabled": _first(uil.get("enabled"), erp_open, True),
            "assorted": _first(ui_assorted.get((product_id, location_id)), True),
            "service_level": _first(uip.get("service_level"), settings["default_service_level"]),
            "lead_time_days": _first(uis.get("lead_time_days"), sup.get("lead_time_days"),
                                     settings["default_lead_time_days"]),
            "min_order_qty": float(_first(uis.get("min_order_qty"), sup.get("min_order_qty"), 1)),
            "order_multiple": float(_first(uis.get("order_multiple"), sup.get("order_multiple"), 1)),
            "review_period_weeks": _first(uis.get("review_period_weeks"), 1),
        }

    return eff


def expected_plans(conn, end_week: dt.date = END_WEEK) -> tuple[dict, dict]:
    """(recommendations by key, forecasts by (key, target_week)) per the contract."""
    master = compute_master_file(*lines.read_lines(conn), end_week)
    horizon = scalar(conn, "SELECT horizon_weeks FROM settings")
    eff = effective_values(conn)
    recs, fcs = {}, {}
    for (p, l), g in master.groupby(["product_id", "location_id"], sort=False):
        g = g.sort_values("week_start")
        last = g.iloc[-1]
        if last["week_start"] != end_week:
            continue
        y = g["units_sold"].tolist()
        fc = orders.demand_class_and_forecast(y)
        rec = orders.recommend(last.to_dict(), fc, eff(p, l))
        recs[(p, l)] = rec | {"as_of_week": end_week}
        for row in orders.forecasts_for_key(y, end_week, horizon, p, l):
            fcs[(p, l, row["target_week"])] = row
    return recs, fcs


def stored_plans(conn) -> tuple[dict, dict]:
    cur = conn.execute("SELECT * FROM recommendations")
    cols = [d.name for d in cur.description]
    recs = {(r["product_id"], r["location_id"]): r for r in (dict(zip(cols, row)) for row in cur.fetchall())}
    cur = conn.execute("SELECT * FROM forecasts")
    cols = [d.name for d in cur.description]
    fcs = {(r["product_id"], r["location_id"], r["target_week"]): r for r in (dict(zip(cols, row)) for row in cur)}
    return recs, fcs


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return a == b or abs(a - b) <= REL * max(abs(a), abs(b)) or abs(a - b) <= 1e-12


def assert_plans_match(conn) -> tuple[dict, dict]:
    want_recs, want_fcs = expected_plans(conn)
    got_recs, got_fcs = stored_plans(conn)
    assert set(got_recs) == set(want_recs)
    problems = []
    for key, want in want_recs.items():
        got = got_recs[key]
        for c in REC_FIGURES:
            if not close(got[c], want[c]):
                problems.append((key, c, got[c], want[c]))
        for c in REC_TEXT:
            if got[c] != want[c]:
                problems.append((key, c, got[c], want[c]))
    assert not problems, f"{len(problems)} differences, first: {problems[:3]}"
    assert set(got_fcs) == set(want_fcs)
    for key, want in want_fcs.items():
        got = got_fcs[key]
        assert close(got["yhat"], want["yhat"]), (key, got, want)
        assert (got["as_of_week"], got["method"], got["demand_class"]) == (
            want["as_of_week"], want["method"], want["demand_class"]), key
    return want_recs, want_fcs


def assert_plans_match_except(conn, inactive: set) -> None:
    want, _ = expected_plans(conn)
    got, _ = stored_plans(conn)
    assert set(got) - set(want) == inactive
    for key, w in want.items():
        assert all(close(got[key][c], w[c]) for c in REC_FIGURES), key
