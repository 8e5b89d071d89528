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

# Contract limits (docs/loading.md, "Limits"). An id is a key or a reference
# to one (product_id, po_id, ...): it is indexed, and a btree entry holds at
# most ~2,700 bytes, so one 3,000-character id used to fail its whole batch.
MAX_ID_CHARS = 200
MAX_TEXT_CHARS = 1_000  # names, categories, regions: shown, never indexed
MAX_FIELD_CHARS = MAX_TEXT_CHARS  # the longest value any field may hold
# Line dates (order, receipt, sale, invoice, expected delivery) outside this
# range are typing errors or sentinels (0001-01-01, 9999-12-31); one of them
# would give its key decades of empty weeks.
MIN_LINE_DATE = dt.date(1990, 1, 1)
LINE_DATE_YEARS_AHEAD = 2
MAX_RAW_BYTES = 4_096  # what a reject keeps of its record; the rest is cut, with a marker
MAX_UNKNOWN_NAMES = 50  # distinct unknown field names counted by name; the rest under "..."
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# numeric accepts far more, but a value this far out is a broken record, not a quantity
MAX_NUMERIC_EXPONENT = 100


class Reject(ValueError):
    """A record that cannot be applied; the message is the reason stored with it."""


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: str  # id | text | numeric | int | date | enum
    allowed: tuple[str, ...] = ()
    # numbers: "any" (may be negative), "nonneg" (>= 0) or "positive" (> 0)
    sign: str = "nonneg"

    @property
    def max_chars(self) -> int:
        return MAX_ID_CHARS if self.kind == "id" else MAX_TEXT_CHARS


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


def _id(name: str) -> Field:
    return Field(name, "id")


def _t(name: str) -> Field:
    return Field(name, "text")


def _n(name: str, sign: str = "nonneg") -> Field:
    return Field(name, "numeric", sign=sign)


def _d(name: str) -> Field:
    return Field(name, "date")


_LINE_NO = Field("line_no", "int", sign="any")  # a key, not a quantity

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "products",
            (_id("product_id"),),
            (_t("name"), _t("category"), _t("brand"), _id("supplier_id"), _n("unit_cost"), _n("unit_price"),
             Field("status", "enum", ("active", "discontinued"))),
        ),
        Entity(
            "locations",
            (_id("location_id"),),
            (_t("name"), Field("kind", "enum", ("store", "warehouse")), _t("region"),
             Field("status", "enum", ("open", "closed"))),
        ),
        Entity(
            "suppliers",
            (_id("supplier_id"),),
            (_t("name"), Field("lead_time_days", "int"), _n("min_order_qty"), _n("order_multiple", "positive")),
        ),
        Entity(
            "purchase_order_lines",
            (_id("po_id"), _LINE_NO),
            (_id("supplier_id"), _id("product_id"), _id("location_id"), _d("order_date"), _d("expected_date"),
             _n("qty_ordered"), _n("unit_cost"), Field("status", "enum", ("open", "closed", "cancelled"))),
            ("product_id", "location_id", "order_date"),
        ),
        Entity(
            "receipt_lines",
            (_id("receipt_id"), _LINE_NO),
            (_id("po_id"), _id("product_id"), _id("location_id"), _d("received_date"), _n("qty_received")),
            ("product_id", "location_id", "received_date"),
        ),
        Entity(
            "sales_lines",
            (_id("txn_id"), _LINE_NO),
            # a return is a negative quantity and amount (data-contract.md)
            (_id("product_id"), _id("location_id"), _d("business_date"), _n("qty", "any"), _n("net_amount", "any")),
            ("product_id", "location_id", "business_date"),
        ),
        Entity(
            "invoice_lines",
            (_id("invoice_id"), _LINE_NO),
            (_id("po_id"), _id("product_id"), _id("location_id"), _d("invoice_date"), _n("qty_invoiced"),
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


def _check_text(name: str, value: str, limit: int = MAX_FIELD_CHARS) -> str:
    if len(value) > limit:
        raise Reject(f"{name}: longer than {limit} characters ({len(value)})")
    if "\x00" in value:
        raise Reject(f"{name}: contains a NUL character")
    return value


def _text(f: Field, typed: bool):
    name, limit = f.name, f.max_chars

    def conv(value):
        if value is None:
            return None
        if isinstance(value, str):
            if not typed and value == "":
                return None
            return _copy_text(_check_text(name, value, limit))
        if typed and isinstance(value, int) and not isinstance(value, bool):
            return _check_text(name, str(value), limit)  # a numeric code where text belongs keeps its digits
        raise Reject(f"{name}: expected text, got {_describe(value)}")

    return conv


def _check_sign(name: str, sign: str, n) -> None:
    """Quantities, costs and lead times are not negative; only a sale's may be (a return)."""
    if sign == "nonneg" and n < 0:
        raise Reject(f"{name}: negative ({n}); only a sales line's qty and net_amount may be")
    if sign == "positive" and n <= 0:
        raise Reject(f"{name}: must be greater than 0 ({n})")


def _finite_decimal(name: str, d: Decimal, sign: str = "any") -> str:
    if not d.is_finite():
        raise Reject(f"{name}: not a finite number ({d})")
    if abs(d.adjusted()) > MAX_NUMERIC_EXPONENT:
        raise Reject(f"{name}: out of range ({d})")
    _check_sign(name, sign, d)
    return str(d)


def _numeric(f: Field, typed: bool):
    name, sign = f.name, f.sign

    def conv(value):
        if value is None:
            return None
        if isinstance(value, bool):
            raise Reject(f"{name}: expected a number, got {_describe(value)}")
        if isinstance(value, int):
            if abs(value) >= 10**MAX_NUMERIC_EXPONENT:
                raise Reject(f"{name}: out of range")
            _check_sign(name, sign, value)
            return str(value)
        if isinstance(value, Decimal):
            return _finite_decimal(name, value, sign)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise Reject(f"{name}: not a finite number ({value})")
            _check_sign(name, sign, value)
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
            return _finite_decimal(name, d, sign)
        raise Reject(f"{name}: expected a number, got {_describe(value)}")

    return conv


_INT_TEXT = re.compile(r"\s*[-+]?\d{1,12}\s*")


def _integer(f: Field, typed: bool):
    name, sign = f.name, f.sign

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
        _check_sign(name, sign, n)
        return str(n)

    return conv


def line_date_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The dates a line may carry: MIN_LINE_DATE to today plus LINE_DATE_YEARS_AHEAD years."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    try:
        latest = today.replace(year=today.year + LINE_DATE_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + LINE_DATE_YEARS_AHEAD, day=28)
    return MIN_LINE_DATE, latest


def _date(f: Field, typed: bool, date_range: tuple[dt.date, dt.date]):
    name = f.name
    fromiso = dt.date.fromisoformat
    lo, hi = date_range
    lo_text, hi_text = lo.isoformat(), hi.isoformat()

    def in_range(text: str) -> str:
        # ISO dates compare as text
        if not lo_text <= text <= hi_text:
            raise Reject(f"{name}: outside {lo_text} .. {hi_text} ({text})")
        return text

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
            return in_range(value)
        if isinstance(value, dt.datetime):
            raise Reject(f"{name}: expected a date, got a timestamp ({value.isoformat()})")
        if isinstance(value, dt.date):
            return in_range(value.isoformat())
        raise Reject(f"{name}: expected a date YYYY-MM-DD, got {_describe(value)}")

    return conv


def _enum(f: Field, typed: bool):
    name, allowed = f.name, f.allowed
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
    """Per-entity validation, compiled once; `row` is the per-record hot path.

    `unknown` counts the fields records carried that the contract does not
    name (by field name): they are not stored, but reported, never dropped
    silently.
    """

    def __init__(self, ent: Entity | str, *, typed: bool = True, today: dt.date | None = None):
        self.entity = ent if isinstance(ent, Entity) else entity(ent)
        self.typed = typed
        self.date_range = line_date_range(today)
        plan = []
        must = set(self.entity.key_names) | set(self.entity.required)
        for f in self.entity.key + self.entity.fields:
            if f.kind in ("id", "text"):
                conv, fast = _text(f, typed), _FAST_TEXT
            elif f.kind == "numeric":
                conv, fast = _numeric(f, typed), _FAST_NUMERIC
            elif f.kind == "int":
                conv, fast = _integer(f, typed), _FAST_INT
            elif f.kind == "date":
                conv, fast = _date(f, typed, self.date_range), _FAST_DATE
            elif f.kind == "enum":
                conv, fast = _enum(f, typed), 0
            else:  # pragma: no cover - a definition error
                raise AssertionError(f.kind)
            # the smallest integer the fast path takes as it is (the converter checks the rest)
            lowest = {"any": -_BIG + 1, "nonneg": 0, "positive": 1}[f.sign]
            if fast == _FAST_INT:
                lowest = max(lowest, INT_MIN)
            # a Decimal the fast path takes: any, or one without a minus sign (comparing
            # a Decimal with a number costs more than the rest of its checks)
            unsigned_only = f.sign != "any"
            if f.sign == "positive":
                fast_decimal = False
            else:
                fast_decimal = fast == _FAST_NUMERIC
            plan.append((f.name, fast, conv, f.name in must, f.max_chars, lowest, fast_decimal, unsigned_only))
        self._plan = tuple(plan)
        self._key_names = frozenset(self.entity.key_names)
        self._known = frozenset(self.entity.columns)
        self._valid_dates: set[str] = set()
        self.unknown: dict[str, int] = {}

    def _count_unknown(self, record: dict) -> None:
        unknown = self.unknown
        for k in record:
            if k not in self._known:
                name = k if isinstance(k, str) else repr(k)
                if name not in unknown:
                    if len(unknown) >= MAX_UNKNOWN_NAMES:
                        name = "..."
                    elif len(name) > 64:
                        name = name[:61] + "..."
                unknown[name] = unknown.get(name, 0) + 1

    def row(self, record, seq: int) -> bytes:
        """One COPY line (with `seq` last) for a record, or Reject."""
        if not isinstance(record, dict):
            raise Reject(f"not a JSON object ({type(record).__name__})")
        if not self._known.issuperset(record):
            self._count_unknown(record)
        get = record.get
        out = []
        append = out.append
        valid_dates = self._valid_dates
        for name, fast, conv, must, limit, lowest, fast_decimal, unsigned_only in self._plan:
            value = get(name)
            # fast paths for the common plain values; anything unusual takes the full converter
            t = type(value)
            if t is str:
                if fast == _FAST_TEXT:
                    if value and len(value) <= limit and value.isprintable() and "\\" not in value \
                            and not (must and value.isspace()):
                        append(value)
                        continue
                elif fast == _FAST_DATE and value in valid_dates:
                    append(value)
                    continue
            elif t is int:
                if fast == _FAST_NUMERIC and lowest <= value < _BIG or fast == _FAST_INT and lowest <= value <= INT_MAX:
                    append(str(value))
                    continue
            elif t is Decimal and fast_decimal and value.is_finite() and not (unsigned_only and value.is_signed()) \
                    and -MAX_NUMERIC_EXPONENT <= value.adjusted() <= MAX_NUMERIC_EXPONENT:
                append(str(value))
                continue
            value = conv(value)
            if fast == _FAST_DATE and t is str and value is not None:
                # dates repeat across records: remember the ones already proven valid (and in range)
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


def raw_text(value, limit: int = MAX_RAW_BYTES) -> str:
    """What a reject keeps of a record: its text, storable in a text column, at most `limit` bytes.

    A longer record keeps its first bytes and ends with a marker saying how
    long it was: a 30 MB line is a reason to look at the source, not to fill
    the rejects table.
    """
    if isinstance(value, (bytes, bytearray)):
        size = len(value)
        text = bytes(value[: limit + 4]).decode("utf-8", "backslashreplace")
    elif isinstance(value, str):
        text = value
        size = None
    else:
        import json

        text = json.dumps(value, default=str, ensure_ascii=False)
        size = None
    text = text.rstrip("\r\n")
    # PostgreSQL text holds neither NUL nor lone surrogates: keep them visible instead
    data = text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace")
    if size is None:
        size = len(data)
    if len(data) <= limit and size <= limit + 2:  # + a line end
        return data.decode("utf-8")
    return data[:limit].decode("utf-8", "ignore") + f" ...[cut: {size} bytes in all]"
