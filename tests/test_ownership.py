"""One source of truth (issue 4): every field has one owner, the database
refuses the wrong writer, the UI wins where it speaks, and an ERP value that
contradicts a UI override is recorded in `conflicts`.

Writes run under the tenant's own roles (SET ROLE), so every refusal here is
PostgreSQL's. The effective-value rules themselves are in tests/pgtap/ownership.sql.
"""
from __future__ import annotations

import json
import types

import psycopg
import pytest
from psycopg import errors, sql

from pyloader import load
from pyloader.errors import refused_rule
from tests.conftest import CITUS, row_set, scalar

T0, T1, T2, T3, T4 = (f"2024-0{m}-01T00:00:00+00:00" for m in range(1, 6))

ERP_KEYS = {"erp_products": "product_id", "erp_locations": "location_id", "erp_suppliers": "supplier_id"}


def erp_upsert(conn: psycopg.Connection, table: str, **row) -> int:
    """Apply one ERP record the way the loader does: newer updated_at wins, a replay writes nothing."""
    key = ERP_KEYS[table]
    cols = list(row)
    query = sql.SQL(
        "INSERT INTO {t} AS t ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET {sets} "
        "WHERE excluded.updated_at > t.updated_at"
    ).format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
        vals=sql.SQL(", ").join(sql.Placeholder(c) for c in cols),
        key=sql.Identifier(key),
        sets=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in cols if c != key),
    )
    return conn.execute(query, row).rowcount


def conflict_rows(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT entity, entity_key, field, erp_value, ui_value, (erp_updated_at AT TIME ZONE 'UTC')::text "
        "FROM conflicts ORDER BY conflict_id"
    ).fetchall()


def effective(conn: psycopg.Connection, view: str, key: str, value: str) -> dict:
    cur = conn.execute(
        sql.SQL("SELECT * FROM {} WHERE {} = %s").format(sql.Identifier(view), sql.Identifier(key)), (value,)
    )
    names = [d.name for d in cur.description]
    row = cur.fetchone()
    return dict(zip(names, row)) if row else {}


# --- the UI wins, the ERP still updates what it owns, conflicts are recorded once ---


def test_ui_discontinued_product_survives_a_newer_erp_record(tenant):
    with tenant.connect("loader") as erp, tenant.connect("ui") as ui, tenant.connect() as admin:
        erp_upsert(erp, "erp_products", product_id="P1", name="Widget", unit_price=9.5, status="active", updated_at=T0)
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P1', true)")
        assert conflict_rows(admin) == []  # the user overrode knowingly: nothing the ERP sent yet

        # the nightly load sends the product again, active, with a new name and price
        assert erp_upsert(erp, "erp_products", product_id="P1", name="Widget II", unit_price=11,
                          status="active", updated_at=T1) == 1
        p = effective(admin, "effective_products", "product_id", "P1")
        assert (p["discontinued"], p["erp_status"], p["name"], p["unit_price"]) == (True, "active", "Widget II", 11.0)
        assert conflict_rows(admin) == [
            ("product", "P1", "discontinued", "active", "true", "2024-02-01 00:00:00")]

        # a replay writes nothing; a later record that says the same is not news
        assert erp_upsert(erp, "erp_products", product_id="P1", name="Widget II", unit_price=11,
                          status="active", updated_at=T1) == 0
        erp_upsert(erp, "erp_products", product_id="P1", name="Widget II", unit_price=12, status="active", updated_at=T2)
        assert len(conflict_rows(admin)) == 1
        assert effective(admin, "effective_products", "product_id", "P1")["unit_price"] == 12.0

        # the ERP agreeing adds nothing; changing its mind back is news again
        erp_upsert(erp, "erp_products", product_id="P1", status="discontinued", updated_at=T3)
        erp_upsert(erp, "erp_products", product_id="P1", status="active", updated_at=T4)
        assert conflict_rows(admin)[1:] == [
            ("product", "P1", "discontinued", "active", "true", "2024-05-01 00:00:00")]
        assert effective(admin, "effective_products", "product_id", "P1")["discontinued"] is True


def test_ui_disabled_location_survives_a_newer_erp_record(tenant):
    with tenant.connect("loader") as erp, tenant.connect("ui") as ui, tenant.connect() as admin:
        erp_upsert(erp, "erp_locations", location_id="L1", name="High St", kind="store", status="open", updated_at=T0)
        ui.execute("INSERT INTO ui_location_settings (location_id, enabled) VALUES ('L1', false)")
        erp_upsert(erp, "erp_locations", location_id="L1", name="High Street", kind="store", region="North",
                   status="open", updated_at=T1)
        loc = effective(admin, "effective_locations", "location_id", "L1")
        assert (loc["location_enabled"], loc["erp_status"], loc["name"], loc["region"]) == (
            False, "open", "High Street", "North")
        assert conflict_rows(admin) == [("location", "L1", "enabled", "open", "false", "2024-02-01 00:00:00")]
        erp_upsert(erp, "erp_locations", location_id="L1", name="High Street", kind="store", region="North",
                   status="open", updated_at=T1)  # replay
        assert len(conflict_rows(admin)) == 1


def test_ui_lead_time_override_survives_a_newer_erp_record(tenant):
    with tenant.connect("loader") as erp, tenant.connect("ui") as ui, tenant.connect() as admin:
        erp_upsert(erp, "erp_suppliers", supplier_id="S1", name="Acme", lead_time_days=21, min_order_qty=5,
                   order_multiple=6, updated_at=T0)
        # min_order_qty 5 agrees with the ERP's 5.000: an override, but no contradiction
        ui.execute("INSERT INTO ui_supplier_settings (supplier_id, lead_time_days, min_order_qty) VALUES ('S1', 14, 5)")
        erp_upsert(erp, "erp_suppliers", supplier_id="S1", name="Acme Ltd", lead_time_days=28, min_order_qty="5.000",
                   order_multiple=12, updated_at=T1)
        s = effective(admin, "effective_suppliers", "supplier_id", "S1")
        assert s == {"supplier_id": "S1", "name": "Acme Ltd", "lead_time_days": 14, "min_order_qty": 5.0,
                     "order_multiple": 12.0, "review_period_weeks": 1}
        assert conflict_rows(admin) == [
            ("supplier", "S1", "lead_time_days", "28", "14", "2024-02-01 00:00:00")]
        erp_upsert(erp, "erp_suppliers", supplier_id="S1", name="Acme Ltd", lead_time_days=28, min_order_qty="5.000",
                   order_multiple=12, updated_at=T1)  # replay
        assert len(conflict_rows(admin)) == 1


def test_a_tombstone_contradicts_nothing_and_counts_as_absent(tenant):
    with tenant.connect("loader") as erp, tenant.connect("ui") as ui, tenant.connect() as admin:
        erp_upsert(erp, "erp_products", product_id="P1", name="Widget", status="discontinued", updated_at=T0)
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P1', false)")
        erp_upsert(erp, "erp_products", product_id="P1", status="active", deleted=True, updated_at=T1)
        assert conflict_rows(admin) == []
        p = effective(admin, "effective_products", "product_id", "P1")
        assert (p["name"], p["erp_status"], p["discontinued"]) == (None, None, False)  # only the UI speaks now
        # revived with a status the UI contradicts: news
        erp_upsert(erp, "erp_products", product_id="P1", name="Widget", status="discontinued", deleted=False,
                   updated_at=T2)
        assert conflict_rows(admin) == [
            ("product", "P1", "discontinued", "discontinued", "false", "2024-03-01 00:00:00")]


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_overrides_hold_through_the_real_loader_and_a_replay_adds_no_conflict(tenant, tmp_path):
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    day1.mkdir()
    day2.mkdir()
    _write_jsonl(day1 / "products.jsonl", [
        {"product_id": "P1", "name": "Widget", "supplier_id": "S1", "unit_cost": 4, "unit_price": 9.5,
         "status": "active", "updated_at": T0}])
    _write_jsonl(day1 / "locations.jsonl", [
        {"location_id": "L1", "name": "High St", "kind": "store", "region": "North", "status": "open",
         "updated_at": T0}])
    _write_jsonl(day1 / "suppliers.jsonl", [
        {"supplier_id": "S1", "name": "Acme", "lead_time_days": 21, "min_order_qty": 5, "order_multiple": 6,
         "updated_at": T0}])
    _write_jsonl(day2 / "products.jsonl", [
        {"product_id": "P1", "name": "Widget II", "supplier_id": "S1", "unit_cost": 4.5, "unit_price": 11,
         "status": "active", "updated_at": T1}])
    _write_jsonl(day2 / "locations.jsonl", [
        {"location_id": "L1", "name": "High Street", "kind": "store", "region": "North", "status": "open",
         "updated_at": T1}])
    _write_jsonl(day2 / "suppliers.jsonl", [
        {"supplier_id": "S1", "name": "Acme Ltd", "lead_time_days": 28, "min_order_qty": 5, "order_multiple": 6,
         "updated_at": T1}])

    assert all(r.ok for r in load.load_files(tenant.client_id, day1, url=tenant.url))
    with tenant.connect("ui") as ui:
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P1', true)")
        ui.execute("INSERT INTO ui_location_settings (location_id, enabled) VALUES ('L1', false)")
        ui.execute("INSERT INTO ui_supplier_settings (supplier_id, lead_time_days) VALUES ('S1', 14)")
    assert all(r.ok for r in load.load_files(tenant.client_id, day2, url=tenant.url))

    with tenant.connect() as admin:
        p = effective(admin, "effective_products", "product_id", "P1")
        assert (p["discontinued"], p["name"], p["unit_price"], p["unit_cost"]) == (True, "Widget II", 11.0, 4.5)
        loc = effective(admin, "effective_locations", "location_id", "L1")
        assert (loc["location_enabled"], loc["name"]) == (False, "High Street")
        s = effective(admin, "effective_suppliers", "supplier_id", "S1")
        assert (s["lead_time_days"], s["name"]) == (14, "Acme Ltd")
        expected = {
            ("product", "P1", "discontinued", "active", "true", "2024-02-01 00:00:00"),
            ("location", "L1", "enabled", "open", "false", "2024-02-01 00:00:00"),
            ("supplier", "S1", "lead_time_days", "28", "14", "2024-02-01 00:00:00"),
        }
        assert set(conflict_rows(admin)) == expected

    # both days again: every record is a replay or stale, nothing is written, nothing recorded
    for day in (day1, day2):
        results = load.load_files(tenant.client_id, day, url=tenant.url)
        assert all(r.ok and r.counts.applied == 0 for r in results), results
    with tenant.connect() as admin:
        assert len(conflict_rows(admin)) == 3


# --- the database refuses the wrong writer ---

# (role, statement): each must fail with a permission error
FORBIDDEN = [
    # the loader writes erp_* and its bookkeeping only
    ("loader", "INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P1', true)"),
    ("loader", "UPDATE ui_supplier_settings SET lead_time_days = 1"),
    ("loader", "DELETE FROM ui_assortments"),
    ("loader", "INSERT INTO ui_location_settings (location_id, enabled) VALUES ('L1', true)"),
    ("loader", "UPDATE settings SET default_service_level = 0.9"),
    ("loader", "UPDATE recommendations SET recommended_qty = 1"),
    ("loader", "INSERT INTO conflicts (entity, entity_key, field, erp_updated_at) VALUES ('product', 'P1', 'x', now())"),
    # the UI writes ui_*, settings and its decision columns only
    ("ui", "INSERT INTO erp_products (product_id, status, updated_at) VALUES ('P9', 'active', now())"),
    ("ui", "UPDATE erp_products SET status = 'discontinued'"),
    ("ui", "UPDATE erp_suppliers SET lead_time_days = 1"),
    ("ui", "UPDATE recommendations SET recommended_qty = 0"),
    ("ui", "UPDATE recommendations SET decision = 'approved', recommended_qty = 0"),
    ("ui", "INSERT INTO recommendations (product_id, location_id) VALUES ('P9', 'L9')"),
    ("ui", "DELETE FROM recommendations"),
    ("ui", "DELETE FROM conflicts"),
    ("ui", "INSERT INTO settings (singleton) VALUES (true)"),
    # the pipeline writes derived tables only, never a decision
    ("pipeline", "INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P1', false)"),
    ("pipeline", "UPDATE ui_assortments SET assorted = false"),
    ("pipeline", "UPDATE settings SET horizon_weeks = 4"),
    ("pipeline", "INSERT INTO erp_products (product_id, status, updated_at) VALUES ('P9', 'active', now())"),
    ("pipeline", "UPDATE erp_locations SET status = 'closed'"),
    ("pipeline", "UPDATE recommendations SET decision = 'approved'"),
    ("pipeline", "UPDATE recommendations SET approved_qty = 1"),
    ("pipeline", "INSERT INTO recommendations (product_id, location_id, decision) VALUES ('P9', 'L9', 'approved')"),
    # the tenant's own role reads only
    ("reader", "INSERT INTO ui_product_settings (product_id) VALUES ('P1')"),
    ("reader", "UPDATE erp_products SET name = 'x'"),
    ("reader", "UPDATE recommendations SET decision = 'approved'"),
]


@pytest.fixture
def stocked(tenant):
    """A tenant with one row in each table a forbidden statement aims at."""
    with tenant.connect("loader") as erp:
        erp_upsert(erp, "erp_products", product_id="P1", status="active", updated_at=T0)
        erp_upsert(erp, "erp_locations", location_id="L1", status="open", updated_at=T0)
        erp_upsert(erp, "erp_suppliers", supplier_id="S1", lead_time_days=7, updated_at=T0)
    with tenant.connect("ui") as ui:
        ui.execute("INSERT INTO ui_supplier_settings (supplier_id, lead_time_days) VALUES ('S1', 3)")
        ui.execute("INSERT INTO ui_assortments (product_id, location_id, assorted) VALUES ('P1', 'L1', true)")
    with tenant.connect("pipeline") as pipe:
        pipe.execute("INSERT INTO recommendations (product_id, location_id, as_of_week, recommended_qty) "
                     "VALUES ('P1', 'L1', '2024-01-01', 5)")
    return tenant


@pytest.mark.parametrize("role, statement", FORBIDDEN, ids=[f"{r}: {s[:60]}" for r, s in FORBIDDEN])
def test_wrong_writer_is_refused(stocked, role, statement):
    with stocked.connect(role) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement)


@pytest.mark.parametrize("role", ["loader", "ui", "pipeline", "reader", None])
def test_forecasts_are_derived_and_no_role_writes_them(stocked, role):
    # a view over recommendations (migration t0009): even the owner cannot write it
    with stocked.connect(role) as conn:
        for statement in ("DELETE FROM forecasts",
                          "INSERT INTO forecasts (product_id, location_id, as_of_week, target_week) "
                          "VALUES ('P1', 'L1', '2024-01-01', '2024-01-08')",
                          "UPDATE forecasts SET yhat = 1"):
            with pytest.raises((errors.InsufficientPrivilege, errors.ObjectNotInPrerequisiteState)):
                conn.execute(statement)
    with stocked.connect() as admin:
        horizon = scalar(admin, "SELECT horizon_weeks FROM settings")
        assert scalar(admin, "SELECT count(*) FROM forecasts WHERE product_id = 'P1'") == horizon


def test_each_owner_writes_what_it_owns(stocked):
    with stocked.connect("ui") as ui:
        ui.execute("UPDATE recommendations SET decision = 'approved', approved_qty = 4, decided_by = 'alice', "
                   "decided_at = now(), note = 'ok'")
        ui.execute("UPDATE settings SET default_service_level = 0.9")
        ui.execute("DELETE FROM ui_assortments")
    with stocked.connect("pipeline") as pipe:
        # the pipeline's own columns, also through an upsert; the decision stays the UI's
        pipe.execute(
            "INSERT INTO recommendations AS r (product_id, location_id, as_of_week, recommended_qty, computed_at) "
            "VALUES ('P1', 'L1', '2024-01-08', 7, now()) "
            "ON CONFLICT (product_id, location_id) DO UPDATE SET as_of_week = excluded.as_of_week, "
            "recommended_qty = excluded.recommended_qty, computed_at = excluded.computed_at")
        pipe.execute("INSERT INTO recommendations (product_id, location_id) VALUES ('P2', 'L1')")
        pipe.execute("DELETE FROM features")
    with stocked.connect() as admin:
        assert row_set(admin, "SELECT product_id, recommended_qty, decision, approved_qty FROM recommendations") == {
            ("P1", 7.0, "approved", 4.0), ("P2", None, "pending", None)}


@pytest.mark.parametrize("role, table, statement", [
    ("loader", "erp_products", "INSERT INTO {}.erp_products (product_id, updated_at) VALUES ('P1', now())"),
    ("ui", "ui_product_settings", "INSERT INTO {}.ui_product_settings (product_id) VALUES ('P1')"),
    ("ui", "recommendations", "UPDATE {}.recommendations SET decision = 'approved'"),
    ("pipeline", "features", "DELETE FROM {}.features"),
    ("pipeline", "recommendations", "UPDATE {}.recommendations SET recommended_qty = 1"),
])
def test_no_role_writes_another_tenants_tables(make_tenant, role, table, statement):
    a = make_tenant("alpha")
    b = make_tenant("beta")
    with a.connect(role) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL(statement).format(sql.Identifier(b.schema)))
    # and the same statement on its own tenant is allowed
    with a.connect(role) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(a.schema)))


# --- the database refuses out-of-range UI values, naming the rule ---

OUT_OF_RANGE = [
    ("ui_product_settings_service_level_range",
     "INSERT INTO ui_product_settings (product_id, service_level) VALUES ('P1', 0.4)"),
    ("ui_product_settings_service_level_range",
     "INSERT INTO ui_product_settings (product_id, service_level) VALUES ('P1', 1)"),
    ("ui_product_settings_service_level_range",
     "INSERT INTO ui_product_settings (product_id, service_level) VALUES ('P1', 'NaN')"),
    ("ui_supplier_settings_lead_time_days_not_negative",
     "INSERT INTO ui_supplier_settings (supplier_id, lead_time_days) VALUES ('S1', -1)"),
    ("ui_supplier_settings_min_order_qty_not_negative",
     "INSERT INTO ui_supplier_settings (supplier_id, min_order_qty) VALUES ('S1', -0.5)"),
    ("ui_supplier_settings_min_order_qty_not_negative",
     "INSERT INTO ui_supplier_settings (supplier_id, min_order_qty) VALUES ('S1', 'NaN')"),
    ("ui_supplier_settings_order_multiple_positive",
     "INSERT INTO ui_supplier_settings (supplier_id, order_multiple) VALUES ('S1', 0)"),
    ("ui_supplier_settings_order_multiple_positive",
     "INSERT INTO ui_supplier_settings (supplier_id, order_multiple) VALUES ('S1', 'Infinity')"),
    ("ui_supplier_settings_review_period_weeks_at_least_one",
     "INSERT INTO ui_supplier_settings (supplier_id, review_period_weeks) VALUES ('S1', 0)"),
    ("settings_default_service_level_range", "UPDATE settings SET default_service_level = 0.9999"),
    ("settings_default_lead_time_days_not_negative", "UPDATE settings SET default_lead_time_days = -1"),
    ("recommendations_decision_known", "UPDATE recommendations SET decision = 'maybe'"),
    ("recommendations_approved_qty_not_negative", "UPDATE recommendations SET approved_qty = -1"),
]


@pytest.mark.parametrize("constraint, statement", OUT_OF_RANGE, ids=[f"{c}: {s[-30:]}" for c, s in OUT_OF_RANGE])
def test_out_of_range_ui_values_are_refused_by_name(stocked, constraint, statement):
    with stocked.connect("ui") as ui:
        with pytest.raises(errors.CheckViolation) as exc:
            ui.execute(statement)
    assert refused_rule(exc.value.diag) == constraint
    assert constraint in str(exc.value)
    if not CITUS:
        assert exc.value.diag.constraint_name == constraint


def test_a_refusal_from_a_citus_worker_names_its_rule():
    """A Citus coordinator passes a worker's error on without its
    constraint_name (Citus's ReportResultError: sqlstate, message, detail,
    hint); the rule is read from the message."""
    # as Citus 13.0.5 passed on a check's refusal (2026-12-03): the shard's
    # id follows the relation's name only
    citus = types.SimpleNamespace(constraint_name=None, message_primary=(
        'new row for relation "ui_product_settings_102023" violates check constraint'
        ' "ui_product_settings_service_level_range"'))
    assert refused_rule(citus) == "ui_product_settings_service_level_range"
    # any other relation: the name as it is
    plain = types.SimpleNamespace(constraint_name=None, message_primary=(
        'new row for relation "settings" violates check constraint "settings_default_lead_time_days_not_negative"'))
    assert refused_rule(plain) == "settings_default_lead_time_days_not_negative"
    assert refused_rule(types.SimpleNamespace(constraint_name=None, message_primary="permission denied")) is None


def test_in_range_edges_are_accepted(tenant):
    with tenant.connect("ui") as ui:
        ui.execute("INSERT INTO ui_product_settings (product_id, service_level) VALUES ('P1', 0.5), ('P2', 0.999)")
        ui.execute("INSERT INTO ui_supplier_settings (supplier_id, lead_time_days, min_order_qty, order_multiple, "
                   "review_period_weeks) VALUES ('S1', 0, 0, 0.5, 1)")


# --- updated_by / updated_at: set by the database unless the writer sets them ---


def test_ui_rows_are_stamped_unless_the_writer_names_the_stamp(tenant):
    ui_role = tenant.role("ui")
    with tenant.connect("ui") as ui:
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P1', true)")
        by, at0 = ui.execute("SELECT updated_by, updated_at FROM ui_product_settings").fetchone()
        assert by == ui_role

        # named: kept as written, also when the same user saves twice
        for _ in range(2):
            ui.execute("UPDATE ui_product_settings SET service_level = 0.9, updated_by = 'alice'")
            assert scalar(ui, "SELECT updated_by FROM ui_product_settings") == "alice"
        ui.execute("UPDATE ui_product_settings SET updated_at = '2020-01-01T00:00:00Z'")
        assert scalar(ui, "SELECT updated_at = '2020-01-01T00:00:00Z' FROM ui_product_settings") is True

        # left out: the database stamps the writer and the time, in the upsert path too
        ui.execute("UPDATE ui_product_settings SET service_level = 0.8")
        by, at1 = ui.execute("SELECT updated_by, updated_at FROM ui_product_settings").fetchone()
        assert by == ui_role and at1 > at0
        ui.execute("UPDATE ui_product_settings SET updated_by = 'bob'")
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued) VALUES ('P1', false) "
                   "ON CONFLICT (product_id) DO UPDATE SET discontinued = excluded.discontinued")
        assert scalar(ui, "SELECT updated_by FROM ui_product_settings") == ui_role
        ui.execute("INSERT INTO ui_product_settings (product_id, discontinued, updated_by) VALUES ('P1', true, 'carol') "
                   "ON CONFLICT (product_id) DO UPDATE SET discontinued = excluded.discontinued, "
                   "updated_by = excluded.updated_by")
        assert scalar(ui, "SELECT updated_by FROM ui_product_settings") == "carol"

        # every UI-owned table, settings included
        ui.execute("INSERT INTO ui_location_settings (location_id, enabled, updated_by) VALUES ('L1', true, 'dave')")
        ui.execute("INSERT INTO ui_assortments (product_id, location_id, assorted, updated_by) "
                   "VALUES ('P1', 'L1', true, 'dave')")
        ui.execute("INSERT INTO ui_supplier_settings (supplier_id, review_period_weeks, updated_by) "
                   "VALUES ('S1', 2, 'dave')")
        ui.execute("UPDATE settings SET updated_by = 'dave'")
        for table in ("ui_location_settings", "ui_assortments", "ui_supplier_settings", "settings"):
            ui.execute(sql.SQL("UPDATE {} SET updated_at = updated_at").format(sql.Identifier(table)))
            assert scalar(ui, sql.SQL("SELECT updated_by FROM {}").format(sql.Identifier(table))) == ui_role, table


def test_a_named_stamp_never_leaks_to_the_next_row_or_statement(tenant):
    ui_role = tenant.role("ui")
    with tenant.connect("ui", autocommit=False) as ui:
        ui.execute("INSERT INTO ui_product_settings (product_id, updated_by) VALUES ('P1', 'x'), ('P2', 'x')")
        ui.execute("UPDATE ui_product_settings SET updated_by = CASE product_id WHEN 'P1' THEN 'a' ELSE 'b' END")
        assert row_set(ui, "SELECT product_id, updated_by FROM ui_product_settings") == {("P1", "a"), ("P2", "b")}
        # same transaction, next statement leaves the stamp out: every row is stamped
        ui.execute("UPDATE ui_product_settings SET service_level = 0.9")
        assert row_set(ui, "SELECT updated_by FROM ui_product_settings") == {(ui_role,)}
        ui.commit()
