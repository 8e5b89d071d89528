"""Validation and conversion of ERP records, one entity at a time (no database).

`Normalizer.row(record)` turns one record (a dict) into one line of
PostgreSQL COPY text, or raises `Reject` with a reason a person can act on.
Whatever it returns COPY accepts into the entity's table: every check that
could make COPY fail (a bad date, an out-of-range integer, a NUL character,
text that is not valid Unicode) happens here, record by record, so one bad
record never costs the batch beside it.

Two flavours of input:
- typed (JSON, Parquet): numbers must be numbers; a string where a number
  belongs is refused. Dates and timestamps are ISO strings (or date/datetime
  objects, as Parquet gives them).
- text (CSV): every value is a string and an empty one means null.

The entity definitions below are the data contract (data-contract.md, "ERP
entities"); the loader, the fake ERP and the migration follow them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

MAX_FIELD_CHARS = 10_000
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# numeric accepts far more, but a value this far out is a broken record, not a quantity
MAX_NUMERIC_EXPONENT = 100


class Reject(ValueError):
    """A record that cannot be applied; the message is the reason stored with it."""


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | numeric | int | date | enum
    allowed: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Entity:
    name: str  # the API collection and the file name
    key: tuple[Field, ...]
    fields: tuple[Field, ...]
    required: tuple[str, ...] = ()  # lines: product_id, location_id and the line's date

    @property
    def table(self) -> str:
        return "erp_" + self.name

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.key)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a normalised row carries, in COPY order."""
        return self.key_names + self.field_names + ("updated_at", "deleted")


def _t(name: str) -> Field:
    return Field(name, "text")


def _n(name: str) -> Field:
    return Field(name, "numeric")


def _d(name: str) -> Field:
    return Field(name, "date")


_LINE_NO = Field("line_no", "int")

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "products",
            (_t("product_id"),),
            (_t("name"), _t("category"), _t("brand"), _t("supplier_id"), _n("unit_cost"), _n("unit_price"),
             Field("status", "enum", ("active", "discontinued"))),
        ),
        Entity(
            "locations",
            (_t("location_id"),),
            (_t("name"), Field("kind", "enum", ("store", "warehouse")), _t("region"),
             Field("status", "enum", ("open", "closed"))),
        ),
        Entity(
            "suppliers",
            (_t("supplier_id"),),
            (_t("name"), Field("lead_time_days", "int"), _n("min_order_qty"), _n("order_multiple")),
        ),
        Entity(
            "purchase_order_lines",
            (_t("po_id"), _LINE_NO),
            (_t("supplier_id"), _t("product_id"), _t("location_id"), _d("order_date"), _d("expected_date"),
             _n("qty_ordered"), _n("unit_cost"), Field("status", "enum", ("open", "closed", "cancelled"))),
            ("product_id", "location_id", "order_date"),
        ),
        Entity(
            "receipt_lines",
            (_t("receipt_id"), _LINE_NO),
            (_t("po_id"), _t("product_id"), _t("location_id"), _d("received_date"), _n("qty_received")),
            ("product_id", "location_id", "received_date"),
        ),
        Entity(
            "sales_lines",
            (_t("txn_id"), _LINE_NO),
            (_t("product_id"), _t("location_id"), _d("business_date"), _n("qty"), _n("net_amount")),
            ("product_id", "location_id", "business_date"),
        ),
        Entity(
            "invoice_lines",
            (_t("invoice_id"), _LINE_NO),
            (_t("po_id"), _t("product_id"), _t("location_id"), _d("invoice_date"), _n("qty_invoiced"),
             _n("line_amount")),
            ("product_id", "location_id", "invoice_date"),
        ),
    )
}

ENTITY_ORDER: tuple[str, ...] = tuple(ENTITIES)


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise ValueError(f"unknown entity {name!r}; expected one of {', '.join(ENTITY_ORDER)}") from None


# --- COPY text format -------------------------------------------------------

NULL = "\\N"
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(s: str) -> str:
    return s.translate(_ESCAPES) if _NEEDS_ESCAPE.search(s) else s


# --- converters: value -> COPY field text, or Reject --------------------------
# Each returns None for "null". They are closures built once per entity so the
# per-record path is a loop of plain calls.


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_text(name: str, value: str) -> str:
    if len(value) > MAX_FIELD_CHARS:
        raise Reject(f"{name}: longer than {MAX_FIELD_CHARS} characters ({len(value)})")
    if "\x00" in value:
        raise Reject(f"{name}: contains a NUL character")
    return value


def _text(name: str, typed: bool):
    def conv(value):
        if value is None:
            return None
        if isinstance(value, str):
            if not typed and value == "":
                return None
            return _copy_text(_check_text(name, value))
        if typed and isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # a numeric code where text belongs keeps its digits
        raise Reject(f"{name}: expected text, got {_describe(value)}")

    return conv


def _finite_decimal(name: str, d: Decimal) -> str:
    if not d.is_finite():
        raise Reject(f"{name}: not a finite number ({d})")
    if abs(d.adjusted()) > MAX_NUMERIC_EXPONENT:
        raise Reject(f"{name}: out of range ({d})")
    return str(d)


def _numeric(name: str, typed: bool):
    def conv(value):
        if value is None:
            return None
        if isinstance(value, bool):
            raise Reject(f"{name}: expected a number, got {_describe(value)}")
        if isinstance(value, int):
            if abs(value) >= 10**MAX_NUMERIC_EXPONENT:
                raise Reject(f"{name}: out of range")
            return str(value)
        if isinstance(value, Decimal):
            return _finite_decimal(name, value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise Reject(f"{name}: not a finite number ({value})")
            return repr(value)
        if isinstance(value, str):
            if typed:
                raise Reject(f"{name}: a string where a number belongs ({_describe(value)})")
            if value == "":
                return None
            _check_text(name, value)
            try:
                d = Decimal(value.strip())
            except InvalidOperation:
                raise Reject(f"{name}: not a number ({_describe(value)})") from None
            return _finite_decimal(name, d)
        raise Reject(f"{name}: expected a number, got {_describe(value)}")

    return conv


_INT_TEXT = re.compile(r"\s*[-+]?\d{1,12}\s*")


def _integer(name: str, typed: bool):
    def conv(value):
        if value is None:
            return None
        if isinstance(value, bool):
            raise Reject(f"{name}: expected an integer, got {_describe(value)}")
        if isinstance(value, int):
            n = value
        elif isinstance(value, (Decimal, float)):
            # Decimal's own test: math.isfinite converts to float, which
            # raises on a signalling NaN instead of answering
            finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
            if not (finite and value == int(value)):
                raise Reject(f"{name}: expected an integer, got {_describe(value)}")
            n = int(value)
        elif isinstance(value, str):
            if typed:
                raise Reject(f"{name}: a string where a number belongs ({_describe(value)})")
            if value == "":
                return None
            if not _INT_TEXT.fullmatch(value):
                raise Reject(f"{name}: not an integer ({_describe(value)})")
            n = int(value)
        else:
            raise Reject(f"{name}: expected an integer, got {_describe(value)}")
        if not INT_MIN <= n <= INT_MAX:
            raise Reject(f"{name}: out of range ({n})")
        return str(n)

    return conv


def _date(name: str, typed: bool):
    fromiso = dt.date.fromisoformat

    def conv(value):
        if value is None:
            return None
        if isinstance(value, str):
            if value == "" and not typed:
                return None
            if len(value) != 10 or value[4] != "-" or value[7] != "-":
                raise Reject(f"{name}: not a date YYYY-MM-DD ({_describe(value)})")
            try:
                fromiso(value)
            except ValueError:
                raise Reject(f"{name}: impossible date ({value})") from None
            return value
        if isinstance(value, dt.datetime):
            raise Reject(f"{name}: expected a date, got a timestamp ({value.isoformat()})")
        if isinstance(value, dt.date):
            return value.isoformat()
        raise Reject(f"{name}: expected a date YYYY-MM-DD, got {_describe(value)}")

    return conv


def _enum(name: str, allowed: tuple[str, ...], typed: bool):
    allowed_set = frozenset(allowed)
    choices = " or ".join(allowed)

    def conv(value):
        if value is None or (value == "" and not typed):
            return None
        if isinstance(value, str) and value in allowed_set:
            return value
        raise Reject(f"{name}: unknown value {_describe(value)} (expected {choices})")

    return conv


def parse_timestamp(value) -> dt.datetime:
    """An aware datetime from an RFC 3339 string (or a datetime), else Reject."""
    if isinstance(value, str):
        if len(value) > 64:
            raise Reject("updated_at: not a timestamp")
        try:
            ts = dt.datetime.fromisoformat(value)
        except ValueError:
            raise Reject(f"updated_at: not an RFC 3339 timestamp ({_describe(value)})") from None
    elif isinstance(value, dt.datetime):
        ts = value
    else:
        raise Reject(f"updated_at: expected an RFC 3339 timestamp, got {_describe(value)}")
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise Reject(f"updated_at: no time zone ({_describe(value)})")
    return ts


_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n", ""})


def _deleted(value, typed: bool) -> str:
    if value is None or value is False:
        return "f"
    if value is True:
        return "t"
    if isinstance(value, str) and not typed:
        low = value.strip().lower()
        if low in _TRUE:
            return "t"
        if low in _FALSE:
            return "f"
    raise Reject(f"deleted: expected true or false, got {_describe(value)}")


_FAST_TEXT, _FAST_NUMERIC, _FAST_INT, _FAST_DATE = 1, 2, 3, 4
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)").fullmatch
_fromiso = dt.datetime.fromisoformat
_BIG = 10**MAX_NUMERIC_EXPONENT


class Normalizer:
    """Per-entity validation, compiled once; `row` is the per-record hot path."""

    def __init__(self, ent: Entity | str, *, typed: bool = True):
        self.entity = ent if isinstance(ent, Entity) else entity(ent)
        self.typed = typed
        plan = []
        must = set(self.entity.key_names) | set(self.entity.required)
        for f in self.entity.key + self.entity.fields:
            if f.kind == "text":
                conv, fast = _text(f.name, typed), _FAST_TEXT
            elif f.kind == "numeric":
                conv, fast = _numeric(f.name, typed), _FAST_NUMERIC
            elif f.kind == "int":
                conv, fast = _integer(f.name, typed), _FAST_INT
            elif f.kind == "date":
                conv, fast = _date(f.name, typed), _FAST_DATE
            elif f.kind == "enum":
                conv, fast = _enum(f.name, f.allowed, typed), 0
            else:  # pragma: no cover - a definition error
                raise AssertionError(f.kind)
            plan.append((f.name, fast, conv, f.name in must))
        self._plan = tuple(plan)
        self._key_names = frozenset(self.entity.key_names)
        self._valid_dates: set[str] = set()

    def row(self, record, seq: int) -> bytes:
        """One COPY line (with `seq` last) for a record, or Reject."""
        if not isinstance(record, dict):
            raise Reject(f"not a JSON object ({type(record).__name__})")
        get = record.get
        out = []
        append = out.append
        valid_dates = self._valid_dates
        for name, fast, conv, must in self._plan:
            value = get(name)
            # fast paths for the common plain values; anything unusual takes the full converter
            t = type(value)
            if t is str:
                if fast == _FAST_TEXT:
                    if value and len(value) <= MAX_FIELD_CHARS and value.isprintable() and "\\" not in value \
                            and not (must and value.isspace()):
                        append(value)
                        continue
                elif fast == _FAST_DATE and value in valid_dates:
                    append(value)
                    continue
            elif t is int:
                if fast == _FAST_NUMERIC and -_BIG < value < _BIG or fast == _FAST_INT and INT_MIN <= value <= INT_MAX:
                    append(str(value))
                    continue
            elif t is Decimal and fast == _FAST_NUMERIC and value.is_finite() \
                    and -MAX_NUMERIC_EXPONENT <= value.adjusted() <= MAX_NUMERIC_EXPONENT:
                append(str(value))
                continue
            value = conv(value)
            if fast == _FAST_DATE and t is str and value is not None:
                # dates repeat across records: remember the ones already proven valid
                if len(valid_dates) > 100_000:
                    valid_dates.clear()
                valid_dates.add(value)
            if value is None:
                if must:
                    if name in self._key_names:
                        raise Reject(f"missing key field {name}")
                    raise Reject(f"line lacks {name}")
                append(NULL)
            else:
                if must and not value.strip():
                    raise Reject(f"empty {'key field' if name in self._key_names else 'field'} {name}")
                append(value)
        stamp = get("updated_at")
        if stamp is None or stamp == "":
            raise Reject("missing updated_at")
        if type(stamp) is str and _RFC3339(stamp):
            try:
                _fromiso(stamp)  # the pattern admits 2025-02-30 and 25:00; this does not
            except ValueError:
                raise Reject(f"updated_at: impossible timestamp ({_describe(stamp)})") from None
            append(stamp)  # PostgreSQL reads RFC 3339 as it is
        else:
            append(parse_timestamp(stamp).isoformat())
        append(_deleted(get("deleted"), self.typed))
        append(str(seq))
        line = "\t".join(out)
        try:
            return (line + "\n").encode("utf-8")
        except UnicodeEncodeError:
            raise Reject("text is not valid Unicode (a lone surrogate)") from None


def raw_text(value) -> str:
    """What a reject keeps of a record: its text, storable in a text column."""
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", "backslashreplace")
    elif isinstance(value, str):
        text = value
    else:
        import json

        text = json.dumps(value, default=str, ensure_ascii=False)
    text = text.rstrip("\r\n")
    # PostgreSQL text holds neither NUL nor lone surrogates: keep them visible instead
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
