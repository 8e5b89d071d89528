"""The normaliser: every bad input of issue 3 becomes a Reject with a reason,
and whatever it accepts is one well-formed COPY line (no database here)."""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyloader.normalize import (
    ENTITIES, MAX_FIELD_CHARS, MAX_ID_CHARS, MAX_RAW_BYTES, MAX_TEXT_CHARS, Normalizer, Reject, line_date_range, raw_text,
)
from pyloader.sources.files import loads_json

SALE = {
    "txn_id": "T1",
    "line_no": 1,
    "product_id": "P1",
    "location_id": "L1",
    "business_date": "2025-01-31",
    "qty": 2,
    "net_amount": Decimal("10.50"),
    "updated_at": "2025-02-01T10:00:00.123Z",
}


def fields(line: bytes) -> list[str]:
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return line[:-1].decode().split("\t")


def unescape(field: str) -> str | None:
    """COPY text format back to the value (the inverse the database applies)."""
    if field == "\\N":
        return None
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\":
            nxt = field[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[nxt])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def sale(**changes):
    rec = dict(SALE)
    for k, v in changes.items():
        if v is ...:
            rec.pop(k, None)
        else:
            rec[k] = v
    return rec


def reason(record, entity="sales_lines", typed=True) -> str:
    with pytest.raises(Reject) as exc:
        Normalizer(entity, typed=typed).row(record, 0)
    return str(exc.value)


def test_a_good_line_becomes_one_copy_row_in_column_order():
    line = Normalizer("sales_lines").row(SALE, 7)
    assert fields(line) == [
        "T1", "1", "P1", "L1", "2025-01-31", "2", "10.50", "2025-02-01T10:00:00.123Z", "f", "7",
    ]


def test_columns_follow_the_contract():
    assert ENTITIES["sales_lines"].columns == (
        "txn_id", "line_no", "product_id", "location_id", "business_date", "qty", "net_amount", "updated_at", "deleted",
    )
    assert [e.table for e in ENTITIES.values()] == [
        "erp_products", "erp_locations", "erp_suppliers", "erp_purchase_order_lines", "erp_receipt_lines",
        "erp_sales_lines", "erp_invoice_lines",
    ]


@pytest.mark.parametrize(
    "record, expected",
    [
        (sale(txn_id=...), "missing key field txn_id"),
        (sale(txn_id=""), "empty key field txn_id"),
        (sale(txn_id="   "), "empty key field txn_id"),
        (sale(line_no=None), "missing key field line_no"),
        (sale(business_date="2025-02-30"), "business_date: impossible date (2025-02-30)"),
        (sale(business_date="31/01/2025"), "business_date: not a date"),
        (sale(business_date=20250131), "business_date: expected a date"),
        (sale(qty="abc"), "qty: a string where a number belongs"),
        (sale(qty="12"), "qty: a string where a number belongs"),
        (sale(qty=Decimal("NaN")), "qty: not a finite number"),
        (sale(qty=Decimal("Infinity")), "qty: not a finite number"),
        (sale(qty=float("inf")), "qty: not a finite number"),
        (sale(qty=True), "qty: expected a number"),
        (sale(qty={"v": 1}), "qty: expected a number"),
        (sale(qty=Decimal("1E+1000")), "qty: out of range"),
        (sale(line_no=2**31), "line_no: out of range"),
        (sale(line_no=Decimal("1.5")), "line_no: expected an integer"),
        (sale(product_id="x" * (MAX_ID_CHARS + 1)), "product_id: longer than 200 characters (201)"),
        (sale(txn_id="x" * 3000), "txn_id: longer than 200 characters (3000)"),
        (sale(business_date="0001-01-01"), "business_date: outside 1990-01-01 .. "),
        (sale(business_date="1989-12-31"), "business_date: outside 1990-01-01 .. "),
        (sale(business_date="9999-12-31"), "business_date: outside 1990-01-01 .. "),
        (sale(location_id="L\x001"), "location_id: contains a NUL character"),
        (sale(location_id="L\ud8001"), "text is not valid Unicode"),
        (sale(product_id=...), "line lacks product_id"),
        (sale(location_id=None), "line lacks location_id"),
        (sale(business_date=...), "line lacks business_date"),
        (sale(updated_at=...), "missing updated_at"),
        (sale(updated_at="2025-02-01T10:00:00"), "updated_at: no time zone"),
        (sale(updated_at="2025-02-30T10:00:00Z"), "updated_at: impossible timestamp"),
        (sale(updated_at="yesterday"), "updated_at: not an RFC 3339 timestamp"),
        (sale(updated_at=1700000000), "updated_at: expected an RFC 3339 timestamp"),
        (sale(deleted="maybe"), "deleted: expected true or false"),
        (sale(product_id=["P1"]), "product_id: expected text"),
        ([1, 2], "not a JSON object (list)"),
        ("text", "not a JSON object (str)"),
    ],
)
def test_bad_records_are_refused_with_a_reason(record, expected):
    assert reason(record).startswith(expected)


def test_unknown_status_is_refused():
    po = {"po_id": "PO1", "line_no": 1, "product_id": "P1", "location_id": "L1", "order_date": "2025-01-01",
          "status": "mislaid", "updated_at": "2025-01-01T00:00:00Z"}
    assert reason(po, "purchase_order_lines") == "status: unknown value 'mislaid' (expected open or closed or cancelled)"
    assert reason({"location_id": "L1", "kind": "depot", "updated_at": "2025-01-01T00:00:00Z"}, "locations").startswith(
        "kind: unknown value 'depot'"
    )


def test_unknown_fields_are_ignored_and_missing_optional_ones_are_null():
    line = Normalizer("products").row({"product_id": "P1", "colour": "red", "updated_at": "2025-01-01T00:00:00+02:00"}, 0)
    assert fields(line) == ["P1", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N", "2025-01-01T00:00:00+02:00", "f", "0"]


def test_a_master_record_needs_only_its_key():
    line = Normalizer("suppliers").row({"supplier_id": "S1", "deleted": True, "updated_at": "2025-01-01T00:00:00Z"}, 3)
    assert fields(line)[-2:] == ["t", "3"]


def test_numbers_keep_their_digits():
    n = Normalizer("sales_lines")
    assert fields(n.row(sale(qty=Decimal("0.10"), net_amount=-3), 0))[5:7] == ["0.10", "-3"]
    assert fields(n.row(sale(qty=1.25, net_amount=Decimal("1E+3")), 0))[5:7] == ["1.25", "1E+3"]
    assert fields(n.row(loads_json(b'{"txn_id":"T","line_no":1.0,"product_id":"P","location_id":"L",'
                                   b'"business_date":"2025-01-01","qty":12345678901234567890.123456789,'
                                   b'"updated_at":"2025-01-01T00:00:00Z"}'), 0))[1:6] == [
        "1", "P", "L", "2025-01-01", "12345678901234567890.123456789"]


def test_numeric_codes_are_accepted_as_text_keys():
    assert fields(Normalizer("products").row({"product_id": 1001, "updated_at": "2025-01-01T00:00:00Z"}, 0))[0] == "1001"


def test_text_is_escaped_for_copy():
    name = "tab\there\nnew\\line\rx"
    line = Normalizer("products").row({"product_id": "P1", "name": name, "updated_at": "2025-01-01T00:00:00Z"}, 0)
    assert unescape(fields(line)[1]) == name


def test_a_naive_updated_at_from_parquet_is_refused_an_aware_one_is_kept():
    n = Normalizer("products")
    aware = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    assert fields(n.row({"product_id": "P", "updated_at": aware}, 0))[-3] == "2025-01-01T12:00:00+00:00"
    assert reason({"product_id": "P", "updated_at": aware.replace(tzinfo=None)}, "products").startswith(
        "updated_at: no time zone")


def test_parquet_values_dates_and_floats():
    n = Normalizer("sales_lines")
    row = fields(n.row(sale(business_date=dt.date(2025, 3, 1), qty=2.0, net_amount=None), 0))
    assert row[4:7] == ["2025-03-01", "2.0", "\\N"]
    assert reason(sale(business_date=dt.datetime(2025, 3, 1))).startswith("business_date: expected a date")


def test_a_non_finite_decimal_integer_is_refused_not_raised():
    # a signalling NaN made math.isfinite raise instead of answering
    for value in (Decimal("sNaN"), Decimal("NaN"), Decimal("-Infinity")):
        assert reason(sale(line_no=value)).startswith("line_no: expected an integer")


class TestCsv:
    """Text input: every value is a string, an empty one is null, numbers are parsed."""

    def n(self):
        return Normalizer("sales_lines", typed=False)

    def rec(self, **changes):
        rec = {k: str(v) for k, v in SALE.items()}
        rec.update(changes)
        return rec

    def test_good(self):
        assert fields(self.n().row(self.rec(net_amount="", deleted="true"), 1)) == [
            "T1", "1", "P1", "L1", "2025-01-31", "2", "\\N", "2025-02-01T10:00:00.123Z", "t", "1"]

    @pytest.mark.parametrize(
        "changes, expected",
        [
            ({"qty": "abc"}, "qty: not a number"),
            ({"qty": "NaN"}, "qty: not a finite number"),
            ({"qty": "-Infinity"}, "qty: not a finite number"),
            ({"line_no": "1.5"}, "line_no: not an integer"),
            ({"txn_id": ""}, "missing key field txn_id"),
            ({"product_id": ""}, "line lacks product_id"),
            ({"business_date": "2025-13-01"}, "business_date: impossible date"),
            ({"deleted": "perhaps"}, "deleted: expected true or false"),
        ],
    )
    def test_bad(self, changes, expected):
        with pytest.raises(Reject, match="^" + expected.replace("(", r"\(")):
            self.n().row(self.rec(**changes), 0)


def test_remembered_dates_never_let_a_bad_one_through():
    n = Normalizer("sales_lines", typed=False)
    rec = {k: str(v) for k, v in SALE.items()}
    for date, expected in [("2025-01-31", None), ("", "line lacks business_date"), ("2025-01-31", None),
                           ("", "line lacks business_date"), ("2025-02-30", "business_date: impossible date")]:
        rec["business_date"] = date
        if expected is None:
            assert fields(n.row(rec, 0))[4] == date
        else:
            with pytest.raises(Reject, match=expected):
                n.row(rec, 0)


def test_contract_limits_on_ids_text_dates_and_signs():
    today = dt.date(2026, 3, 1)
    assert line_date_range(today) == (dt.date(1990, 1, 1), dt.date(2028, 3, 1))
    assert line_date_range(dt.date(2024, 2, 29)) == (dt.date(1990, 1, 1), dt.date(2026, 2, 28))
    n = Normalizer("sales_lines", today=today)
    ok = fields(n.row(sale(product_id="p" * MAX_ID_CHARS, business_date="2028-03-01"), 0))
    assert ok[2] == "p" * MAX_ID_CHARS and ok[4] == "2028-03-01"
    for date in ("2028-03-02", "1989-12-31"):
        with pytest.raises(Reject, match=f"business_date: outside 1990-01-01 .. 2028-03-01 \\({date}\\)"):
            n.row(sale(business_date=date), 0)
    # a date proven valid once is cached: the range applies before the cache
    with pytest.raises(Reject, match="outside"):
        n.row(sale(business_date=dt.date(1900, 1, 1)), 0)
    po = {"po_id": "PO1", "line_no": 1, "product_id": "P1", "location_id": "L1", "order_date": "2025-01-01",
          "expected_date": "0001-01-01", "updated_at": "2025-01-01T00:00:00Z"}
    assert reason(po, "purchase_order_lines").startswith("expected_date: outside 1990-01-01")
    # names may be longer than ids, up to MAX_TEXT_CHARS
    prod = {"product_id": "P1", "name": "n" * MAX_TEXT_CHARS, "updated_at": "2025-01-01T00:00:00Z"}
    assert fields(Normalizer("products").row(prod, 0))[1] == "n" * MAX_TEXT_CHARS
    assert reason(dict(prod, name="n" * (MAX_TEXT_CHARS + 1)), "products") == "name: longer than 1000 characters (1001)"
    assert reason(dict(prod, supplier_id="s" * 201), "products").startswith("supplier_id: longer than 200")
    assert MAX_FIELD_CHARS == MAX_TEXT_CHARS


@pytest.mark.parametrize("entity_name, field, value, typed", [
    ("suppliers", "lead_time_days", -700, True),
    ("suppliers", "lead_time_days", "-1", False),
    ("suppliers", "min_order_qty", Decimal("-0.5"), True),
    ("suppliers", "order_multiple", 0, True),
    ("suppliers", "order_multiple", Decimal("-2"), True),
    ("products", "unit_cost", -1, True),
    ("products", "unit_price", -0.01, True),
    ("purchase_order_lines", "qty_ordered", -3, True),
    ("receipt_lines", "qty_received", "-3", False),
    ("invoice_lines", "qty_invoiced", Decimal("-1"), True),
])
def test_negative_quantities_and_lead_times_are_refused(entity_name, field, value, typed):
    ent = ENTITIES[entity_name]
    rec = {k: "K" for k in ent.key_names}
    rec.update({"line_no": 1, "product_id": "P", "location_id": "L", "updated_at": "2025-01-01T00:00:00Z"})
    rec.update({f.name: "2025-01-01" for f in ent.fields if f.kind == "date"})
    rec[field] = value
    if not typed:
        rec = {k: str(v) for k, v in rec.items()}
    assert reason(rec, entity_name, typed).startswith(f"{field}: ")
    assert "negative" in reason(rec, entity_name, typed) or "greater than 0" in reason(rec, entity_name, typed)


def test_a_return_is_a_negative_sale():
    line = Normalizer("sales_lines").row(sale(qty=-2, net_amount=Decimal("-10.50")), 0)
    assert fields(line)[5:7] == ["-2", "-10.50"]
    csv_line = Normalizer("sales_lines", typed=False).row(
        {k: str(v) for k, v in sale(qty=-2, net_amount="-1.5").items()}, 0)
    assert fields(csv_line)[5:7] == ["-2", "-1.5"]
    # zero is a quantity; zero lead time is a same-day supplier
    s = Normalizer("suppliers").row({"supplier_id": "S", "lead_time_days": 0, "min_order_qty": 0,
                                     "updated_at": "2025-01-01T00:00:00Z"}, 0)
    assert fields(s)[2:4] == ["0", "0"]


def test_unknown_fields_are_counted_by_name():
    n = Normalizer("sales_lines")
    n.row(sale(colour="red"), 0)
    n.row(sale(colour="blue", size=3), 1)
    n.row(sale(), 2)
    with pytest.raises(Reject):
        n.row(sale(qty="x", colour="green"), 3)  # counted even when the record is refused
    assert n.unknown == {"colour": 3, "size": 1}
    many = Normalizer("products")
    many.row({"product_id": "P", "updated_at": "2025-01-01T00:00:00Z", **{f"f{i}": 1 for i in range(80)}}, 0)
    assert len(many.unknown) == 51 and many.unknown["..."] == 30


def test_raw_text_is_capped_with_a_marker():
    assert raw_text(b"x" * MAX_RAW_BYTES + b"\n") == "x" * MAX_RAW_BYTES  # exactly the cap: whole
    cut = raw_text(b"y" * 30_000_000)
    assert cut.startswith("y" * MAX_RAW_BYTES) and cut.endswith(" ...[cut: 30000000 bytes in all]")
    assert len(cut.encode()) < MAX_RAW_BYTES + 64
    wide = raw_text("\u00e9" * 5000)  # two bytes each: cut on a character boundary
    assert wide.endswith(" ...[cut: 10000 bytes in all]") and wide.startswith("\u00e9" * 2048)
    assert raw_text({"k": "z" * 10_000}).endswith("bytes in all]")


def test_raw_text_keeps_what_postgres_can_store():
    assert raw_text(b'{"a": 1}\n') == '{"a": 1}'
    assert raw_text(b"\xff\xfe") == "\\xff\\xfe"
    assert raw_text("a\x00b") == "a\\u0000b"
    assert raw_text("\ud800") == "\\ud800"
    assert raw_text({"a": Decimal("1.5")}) == '{"a": "1.5"}'


# --- properties -----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.decimals(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(
    entity_name=st.sampled_from(sorted(ENTITIES)),
    overrides=st.dictionaries(
        st.sampled_from(["txn_id", "line_no", "product_id", "location_id", "business_date", "qty", "name", "status",
                         "kind", "lead_time_days", "updated_at", "deleted", "po_id", "supplier_id", "location_id"]),
        json_values,
        max_size=4,
    ),
    typed=st.booleans(),
)
def test_any_record_is_either_one_copy_line_or_a_reject(entity_name, overrides, typed):
    ent = ENTITIES[entity_name]
    rec = {k: "K" for k in ent.key_names}
    rec.update({"line_no": 1, "product_id": "P", "location_id": "L", "updated_at": "2025-01-01T00:00:00Z"})
    for f in ent.fields:
        if f.kind == "date":
            rec[f.name] = "2025-01-01"
    rec.update(overrides)
    if not typed:
        rec = {k: ("" if v is None else str(v)) for k, v in rec.items()}
    try:
        line = Normalizer(ent, typed=typed).row(rec, 0)
    except Reject as exc:
        assert str(exc)
        return
    parts = fields(line)
    assert len(parts) == len(ent.columns) + 1
    for name, part in zip(ent.columns, parts):
        value = unescape(part)
        if name in ent.key_names:
            assert value and value.strip()
        if value is not None:
            assert "\x00" not in value and len(value) <= MAX_FIELD_CHARS
            kind = next((f.kind for f in ent.key + ent.fields if f.name == name), None)
            if kind == "numeric":
                assert math.isfinite(Decimal(value))
            elif kind == "int":
                assert -(2**31) <= int(value) < 2**31
            elif kind == "date":
                dt.date.fromisoformat(value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50).filter(lambda s: "\x00" not in s and s.strip()))
def test_text_round_trips_through_copy_escaping(text):
    try:
        line = Normalizer("products").row({"product_id": text, "name": text, "updated_at": "2025-01-01T00:00:00Z"}, 0)
    except Reject as exc:
        assert "Unicode" in str(exc)
        return
    parts = fields(line)
    assert unescape(parts[0]) == text and unescape(parts[1]) == text
