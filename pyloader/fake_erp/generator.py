"""Deterministic ERP data, derived record by record from (seed, size, index).

Nothing is materialised: every record is a pure function of its position, so
a page at any cursor is produced directly and a data set of millions of lines
costs no memory. Per entity the served stream is a merge of segments, each
already ordered by (updated_at, key):

- `base`: the records as of generation 0 (minus those changed later);
- for each generation h = 1..g:
  - `late h`: new lines the ERP committed late, with an updated_at a little
    before the previous generation's newest (inside the loader's lookback);
  - `changes h`: corrections and deletions (tombstones) of earlier records,
    with updated_at after everything before.

A generation only adds; the stream of generation g is what an ERP would
answer after g rounds of changes. Sizes: `tiny`, `small`, `medium`, `large`
(1,000 products x 20 locations x 2 years, ~3.7 million sales lines) or
`PxLxD` (products x locations x days).
"""
from __future__ import annotations

import abc
import bisect
import dataclasses
import datetime as dt
import heapq
import re
from collections.abc import Iterator

from pyloader.normalize import ENTITY_ORDER, entity

SIZES = {
    "tiny": (4, 2, 28),
    "small": (20, 3, 120),
    "medium": (100, 10, 365),
    "large": (1000, 20, 730),
}
DEFAULT_END_DATE = dt.date(2025, 6, 29)  # a Sunday: the last week is complete

SALES_RATE = 0.25  # share of (product, location) pairs with a sales line on a day
ORDER_EVERY_DAYS = 28  # a key is reordered about every four weeks
LINES_PER_TXN = 4
LINES_PER_DOC = 5  # purchase orders, receipts, invoices
RECEIPT_LAG_DAYS = 7
INVOICE_LAG_DAYS = 10
LATE_BY_US = 120 * 1_000_000  # late lines: two minutes before the previous newest

_M64 = (1 << 64) - 1
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_DATE = dt.date(1970, 1, 1)
US_PER_DAY = 86_400_000_000
US_PER_MS = 1000

ENTITY_NO = {name: n for n, name in enumerate(ENTITY_ORDER)}
MASTER = ("products", "locations", "suppliers")
LINES = tuple(n for n in ENTITY_ORDER if n not in MASTER)


def mix(a: int, b: int, c: int) -> int:
    """A 64-bit hash of three integers (splitmix64 rounds): the source of all 'randomness'."""
    h = (a * 0x9E3779B97F4A7C15 + b) & _M64
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9 + c) & _M64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _M64
    return h ^ (h >> 31)


def unit(h: int) -> float:
    """[0, 1) from a hash."""
    return (h >> 11) * (1.0 / (1 << 53))


_DAY_PREFIX: dict[int, str] = {}


def format_us(us: int) -> str:
    """Microseconds since the epoch as RFC 3339 UTC with milliseconds (or microseconds)."""
    day, rest = divmod(us, US_PER_DAY)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = (_EPOCH_DATE + dt.timedelta(days=day)).isoformat() + "T"
    secs, frac = divmod(rest, 1_000_000)
    hh, secs = divmod(secs, 3600)
    mm, ss = divmod(secs, 60)
    if frac % 1000:
        return f"{prefix}{hh:02d}:{mm:02d}:{ss:02d}.{frac:06d}Z"
    return f"{prefix}{hh:02d}:{mm:02d}:{ss:02d}.{frac // 1000:03d}Z"


def parse_us(text: str) -> int:
    """RFC 3339 -> microseconds since the epoch (aware; naive means UTC)."""
    ts = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "+"))
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return (ts - _EPOCH) // dt.timedelta(microseconds=1)


def date_us(d: dt.date) -> int:
    return (d - _EPOCH_DATE).days * US_PER_DAY


def parse_size(size: str) -> tuple[int, int, int]:
    if size in SIZES:
        return SIZES[size]
    m = re.fullmatch(r"(\d+)x(\d+)x(\d+)", size or "")
    if not m:
        raise ValueError(f"size must be one of {', '.join(SIZES)} or PxLxD (products x locations x days), got {size!r}")
    p, l, d = (int(x) for x in m.groups())
    if min(p, l, d) < 1:
        raise ValueError(f"size {size!r}: every dimension must be at least 1")
    return p, l, d


@dataclasses.dataclass(frozen=True)
class Segment:
    """An ordered run of records of one entity (read through a _Reader)."""

    kind: str  # base | late | changes
    generation: int
    length: int  # records served (the base segment's positions also count the skipped ones)

    def __len__(self) -> int:
        return self.length


class Dataset:
    """The whole fake ERP for one (seed, size), at any generation."""

    def __init__(self, seed: int = 1, size: str = "small", *, end_date: dt.date = DEFAULT_END_DATE):
        self.seed = int(seed)
        self.size = size
        self.products, self.locations, self.days = parse_size(size)
        self.end_date = end_date
        self.start_date = end_date - dt.timedelta(days=self.days - 1)
        self.suppliers = max(1, -(-self.products // 25))
        self.sales_per_day = max(1, round(self.products * self.locations * SALES_RATE))
        self.docs_per_day = max(1, self.products * self.locations // ORDER_EVERY_DAYS)
        self._start_us = date_us(self.start_date)
        self._master_us = self._start_us - US_PER_DAY + 8 * 3_600_000_000  # the day before, 08:00
        s = self.seed
        # per product and supplier attributes that lines need: O(products) memory
        self._cost = []
        self._price = []
        self._supplier_of = []
        self._popular = []
        for i in range(self.products):
            h = mix(s, 1, i)
            cost = round(1 + (h % 5000) / 100, 2)
            self._cost.append(cost)
            self._price.append(round(cost * (1.3 + ((h >> 20) % 60) / 100), 2))
            self._supplier_of.append(i % self.suppliers)
        self._lead = [3 + mix(s, 3, k) % 12 for k in range(self.suppliers)]
        self._base_len = {
            "products": self.products,
            "locations": self.locations,
            "suppliers": self.suppliers,
            "purchase_order_lines": self.docs_per_day * self.days,
            "receipt_lines": self.docs_per_day * self.days,
            "sales_lines": self.sales_per_day * self.days,
            "invoice_lines": self.docs_per_day * self.days,
        }
        self._day_iso = [(self.start_date + dt.timedelta(days=d)).isoformat() for d in range(self.days + 32)]
        self._changes_cache: dict[tuple[str, int], list[tuple[int, str]]] = {}

    def __repr__(self) -> str:
        return f"Dataset(seed={self.seed}, size={self.size!r})"

    def base_count(self, name: str) -> int:
        return self._base_len[name]

    def counts(self, generation: int = 0) -> dict[str, int]:
        """Records per entity in the stream of a generation (each key once)."""
        return {n: sum(len(seg) for seg in self.segments(n, generation)) for n in ENTITY_ORDER}

    # -- generation changes ------------------------------------------------------

    def _gen_us(self, h: int) -> int:
        """When generation h's corrections were made: the day after the data ends, 06:00 + h hours."""
        return date_us(self.end_date) + US_PER_DAY + (5 + h) * 3_600_000_000

    def _changes(self, name: str, h: int) -> list[tuple[int, str]]:
        """(base index, 'correct' | 'delete') changed in generation h, sorted by index."""
        key = (name, h)
        if key not in self._changes_cache:
            n = self._base_len[name]
            e = ENTITY_NO[name]
            if name in MASTER:
                n_correct, n_delete = max(1, n // 20), max(1, n // 50) if n > 2 else 0
            else:
                n_correct, n_delete = max(1, n // 1000), max(1, n // 2000)
            chosen: dict[int, str] = {}
            for k in range(n_correct):
                chosen.setdefault(mix(self.seed, 1000 + 10 * h + e, k) % n, "correct")
            for k in range(n_delete):
                chosen.setdefault(mix(self.seed, 5000 + 10 * h + e, k) % n, "delete")
            self._changes_cache[key] = sorted(chosen.items())
        return self._changes_cache[key]

    def _late_count(self, name: str) -> int:
        return 0 if name in MASTER else max(1, self._base_len[name] // 5000)

    def newest_us(self, name: str, generation: int) -> int:
        """The largest updated_at of an entity's stream at a generation."""
        if generation == 0:
            return self._base_us(name, self._base_len[name] - 1)
        return self._gen_us(generation) + (len(self._changes(name, generation)) - 1) * US_PER_MS

    def segments(self, name: str, generation: int) -> list[Segment]:
        entity(name)
        segs = [Segment("base", 0, self._base_len[name] - len(self._skip(name, 0, generation)))]
        for h in range(1, generation + 1):
            if self._late_count(name):
                segs.append(Segment("late", h, self._late_count(name)))
            segs.append(Segment("changes", h, len(self._live_changes(name, h, generation))))
        return segs

    def _skip(self, name: str, after: int, generation: int) -> frozenset[int]:
        """Base indices changed in generations after..generation (served by a later segment)."""
        out: set[int] = set()
        for h in range(after + 1, generation + 1):
            out.update(i for i, _ in self._changes(name, h))
        return frozenset(out)

    def _live_changes(self, name: str, h: int, generation: int) -> list[tuple[int, int, str]]:
        """(rank, index, kind) of generation h still current at `generation`."""
        later = self._skip(name, h, generation)
        return [(rank, i, kind) for rank, (i, kind) in enumerate(self._changes(name, h)) if i not in later]

    # -- streams ------------------------------------------------------------------

    def stream(
        self, name: str, generation: int = 0, *, since_us: int | None = None, positions: list[int] | None = None
    ) -> Iterator[tuple[int, list[int], int, dict]]:
        """Records in (updated_at, key) order: yields (updated_at_us, positions_after, segment_no, record).

        `positions` resumes where an earlier page stopped; `since_us` starts at
        the first record with updated_at >= since_us. Only the segments' cursors
        are kept, never the records.
        """
        readers = [self._reader(name, seg, generation) for seg in self.segments(name, generation)]
        if positions is None:
            positions = [r.first_at_or_after(since_us) for r in readers]
        positions = list(positions)
        heap = []
        for k, r in enumerate(readers):
            if positions[k] < r.length:
                heap.append((r.updated_us(positions[k]), k))
        heapq.heapify(heap)
        while heap:
            us, k = heap[0]
            r = readers[k]
            rec = r.record(positions[k])
            positions[k] += 1
            if positions[k] < r.length:
                heapq.heapreplace(heap, (r.updated_us(positions[k]), k))
            else:
                heapq.heappop(heap)
            yield us, positions, k, rec

    def _reader(self, name: str, seg: Segment, generation: int) -> _Reader:
        if seg.kind == "base":
            return _BaseReader(self, name, self._skip(name, 0, generation))
        if seg.kind == "late":
            return _LateReader(self, name, seg.generation)
        return _ChangesReader(self, name, seg.generation, self._live_changes(name, seg.generation, generation))

    # -- records --------------------------------------------------------------------

    def _base_us(self, name: str, i: int) -> int:
        if name in MASTER:
            return self._master_us + i * US_PER_MS
        per_day = self.sales_per_day if name == "sales_lines" else self.docs_per_day
        day, j = divmod(i, per_day)
        return self._start_us + day * US_PER_DAY + 20 * 3_600_000_000 + j * US_PER_MS

    def _day(self, day: int) -> str:
        try:
            return self._day_iso[day]
        except IndexError:
            return (self.start_date + dt.timedelta(days=day)).isoformat()

    def record(self, name: str, i: int) -> dict:
        """The base (generation 0) record at index i, without updated_at."""
        return getattr(self, "_rec_" + name)(i)

    def _rec_products(self, i: int) -> dict:
        h = mix(self.seed, 1, i)
        return {
            "product_id": f"P{i + 1:05d}",
            "name": f"Product {i + 1}",
            "category": f"C{(h >> 8) % 12:02d}",
            "brand": f"B{(h >> 16) % 40:02d}",
            "supplier_id": f"S{self._supplier_of[i] + 1:04d}",
            "unit_cost": self._cost[i],
            "unit_price": self._price[i],
            "status": "discontinued" if (h >> 40) % 50 == 0 else "active",
        }

    def _rec_locations(self, i: int) -> dict:
        warehouses = self.locations // 10
        return {
            "location_id": f"L{i + 1:03d}",
            "name": f"{'Warehouse' if i < warehouses else 'Store'} {i + 1}",
            "kind": "warehouse" if i < warehouses else "store",
            "region": f"R{i % 4 + 1}",
            "status": "open",
        }

    def _rec_suppliers(self, i: int) -> dict:
        h = mix(self.seed, 3, i)
        return {
            "supplier_id": f"S{i + 1:04d}",
            "name": f"Supplier {i + 1}",
            "lead_time_days": self._lead[i],
            "min_order_qty": (1, 6, 12, 24)[(h >> 8) % 4],
            "order_multiple": (1, 6, 12)[(h >> 16) % 3],
        }

    def _product(self, h: int) -> int:
        # popular products sell more: a skew towards low indices
        return min(self.products - 1, int(self.products * unit(h) ** 2))

    def _rec_sales_lines(self, i: int) -> dict:
        day, j = divmod(i, self.sales_per_day)
        txn, line = divmod(j, LINES_PER_TXN)
        h = mix(self.seed, 10, i)
        p = self._product(h)
        qty = 1 + (h >> 40) % 4
        if (h >> 50) % 33 == 0:
            qty = -1  # a return
        return {
            "txn_id": f"T{day:04d}-{txn:05d}",
            "line_no": line + 1,
            "product_id": f"P{p + 1:05d}",
            "location_id": f"L{txn % self.locations + 1:03d}",
            "business_date": self._day(day),
            "qty": qty,
            "net_amount": round(qty * self._price[p] * (1 - ((h >> 20) % 4) * 0.05), 2),
        }

    def _po_parts(self, i: int) -> tuple[int, int, int, int, int]:
        """(day, doc, line, product, location) of purchase order line i."""
        day, j = divmod(i, self.docs_per_day)
        doc, line = divmod(j, LINES_PER_DOC)
        h = mix(self.seed, 20, i)
        return day, doc, line, h % self.products, (h >> 32) % self.locations

    def _po_qty(self, i: int) -> int:
        return 6 * (1 + mix(self.seed, 21, i) % 8)

    def _rec_purchase_order_lines(self, i: int) -> dict:
        day, doc, line, p, loc = self._po_parts(i)
        sup = self._supplier_of[p]
        h = mix(self.seed, 22, i)
        if h % 100 == 0:
            status = "cancelled"
        else:
            status = "open" if day + self._lead[sup] >= self.days else "closed"
        return {
            "po_id": f"PO{day:04d}-{doc:04d}",
            "line_no": line + 1,
            "supplier_id": f"S{sup + 1:04d}",
            "product_id": f"P{p + 1:05d}",
            "location_id": f"L{loc + 1:03d}",
            "order_date": self._day(day),
            "expected_date": self._day(day + self._lead[sup]),
            "qty_ordered": self._po_qty(i),
            "unit_cost": self._cost[p],
            "status": status,
        }

    def _linked(self, i: int, lag_days: int, salt: int):
        """A receipt/invoice line: the purchase order line it follows, or none for the first days."""
        day, j = divmod(i, self.docs_per_day)
        doc, line = divmod(j, LINES_PER_DOC)
        po = i - lag_days * self.docs_per_day
        if po >= 0:
            pday, pdoc, _, p, loc = self._po_parts(po)
            return day, doc, line, f"PO{pday:04d}-{pdoc:04d}", p, loc, self._po_qty(po)
        h = mix(self.seed, salt, i)
        return day, doc, line, None, h % self.products, (h >> 32) % self.locations, 6

    def _rec_receipt_lines(self, i: int) -> dict:
        day, doc, line, po_id, p, loc, qty = self._linked(i, RECEIPT_LAG_DAYS, 30)
        if mix(self.seed, 31, i) % 20 == 0:
            qty -= 1  # short delivery
        return {
            "receipt_id": f"R{day:04d}-{doc:04d}",
            "line_no": line + 1,
            "po_id": po_id,
            "product_id": f"P{p + 1:05d}",
            "location_id": f"L{loc + 1:03d}",
            "received_date": self._day(day),
            "qty_received": qty,
        }

    def _rec_invoice_lines(self, i: int) -> dict:
        day, doc, line, po_id, p, loc, qty = self._linked(i, INVOICE_LAG_DAYS, 40)
        return {
            "invoice_id": f"I{day:04d}-{doc:04d}",
            "line_no": line + 1,
            "po_id": po_id,
            "product_id": f"P{p + 1:05d}",
            "location_id": f"L{loc + 1:03d}",
            "invoice_date": self._day(day),
            "qty_invoiced": qty,
            "line_amount": round(qty * self._cost[p], 2),
        }

    def corrected(self, name: str, rec: dict, h: int) -> dict:
        """Generation h's correction of a record: a changed value, nothing else."""
        rec = dict(rec)
        if name == "products":
            rec["unit_cost"] = round(rec["unit_cost"] * 1.05, 2)
            rec["name"] = f"{rec['name']} (rev {h})"
        elif name == "locations":
            rec["status"] = "closed" if rec["status"] == "open" else "open"
        elif name == "suppliers":
            rec["lead_time_days"] = rec["lead_time_days"] + 1
        elif name == "purchase_order_lines":
            rec["qty_ordered"] = rec["qty_ordered"] + 6
        elif name == "receipt_lines":
            rec["qty_received"] = rec["qty_received"] + 1
        elif name == "sales_lines":
            rec["qty"] = rec["qty"] + 1
            rec["net_amount"] = round(rec["net_amount"] * 1.1, 2)
        else:
            rec["qty_invoiced"] = rec["qty_invoiced"] + 1
        return rec

    def late_record(self, name: str, h: int, k: int) -> dict:
        """A line the ERP committed late in generation h (a new key, dated near the end)."""
        base_i = mix(self.seed, 7000 + 10 * h + ENTITY_NO[name], k) % self._base_len[name]
        rec = dict(self.record(name, base_i))
        doc_key = entity(name).key_names[0]
        rec[doc_key] = f"LATE{h:03d}-{k:06d}"
        rec["line_no"] = 1
        date_field = entity(name).required[2]
        rec[date_field] = self._day(self.days - 1 - k % 3)
        return rec


class _Reader(abc.ABC):
    length: int

    @abc.abstractmethod
    def updated_us(self, pos: int) -> int:
        """updated_at (microseconds) of the record at `pos` in serving order."""

    @abc.abstractmethod
    def record(self, pos: int) -> dict:
        """The record at `pos` in serving order."""

    def first_at_or_after(self, since_us: int | None) -> int:
        if since_us is None:
            return 0
        return bisect.bisect_left(range(self.length), since_us, key=self.updated_us)


class _BaseReader(_Reader):
    """Base records minus those changed later. Positions count base indices
    (skipped ones included) so they map straight to records."""

    def __init__(self, ds: Dataset, name: str, skip: frozenset[int]):
        self.ds, self.name, self.skip = ds, name, skip
        self.length = ds.base_count(name)
        self._make = getattr(ds, "_rec_" + name)

    def updated_us(self, pos: int) -> int:
        return self.ds._base_us(self.name, pos)

    def record(self, pos: int) -> dict | None:
        if pos in self.skip:
            return None
        rec = self._make(pos)
        rec["updated_at"] = format_us(self.ds._base_us(self.name, pos))
        return rec


class _LateReader(_Reader):
    def __init__(self, ds: Dataset, name: str, h: int):
        self.ds, self.name, self.h = ds, name, h
        self.length = ds._late_count(name)
        # a little before the newest of the previous generation; 7 us off the ms grid, so no ties
        self._t0 = ds.newest_us(name, h - 1) - LATE_BY_US + 7

    def updated_us(self, pos: int) -> int:
        return self._t0 + pos * US_PER_MS

    def record(self, pos: int) -> dict:
        rec = self.ds.late_record(self.name, self.h, pos)
        rec["updated_at"] = format_us(self.updated_us(pos))
        return rec


class _ChangesReader(_Reader):
    def __init__(self, ds: Dataset, name: str, h: int, live: list[tuple[int, int, str]]):
        self.ds, self.name, self.h, self.live = ds, name, h, live
        self.length = len(live)
        self._t0 = ds._gen_us(h)

    def updated_us(self, pos: int) -> int:
        return self._t0 + self.live[pos][0] * US_PER_MS

    def record(self, pos: int) -> dict:
        _, i, kind = self.live[pos]
        rec = self.ds.record(self.name, i)
        if kind == "correct":
            rec = self.ds.corrected(self.name, rec, self.h)
        else:
            rec["deleted"] = True
        rec["updated_at"] = format_us(self.updated_us(pos))
        return rec


def iter_records(ds: Dataset, name: str, generation: int = 0, since_us: int | None = None):
    """(updated_at_us, record) of a whole stream, skipped positions left out."""
    for us, _, _, rec in ds.stream(name, generation, since_us=since_us):
        if rec is not None:
            yield us, rec
