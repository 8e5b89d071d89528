"""The fake ERP's HTTP API (interface.md), with switchable faults.

    GET  /v1/{entity}?updated_since=&cursor=&limit=   a page of the collection
    POST /admin/generation?n=N                         move to generation N (or n+1 without N)
    GET  /admin/state                                  generation, counters

Pages are generated on request from the cursor, which names the generation
the load started at and each segment's position, so a load that spans a
generation change still sees one consistent stream. Faults are drawn per
request from a seeded generator; a request that was just faulted is never
faulted again on its next try, so retrying always gets through.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import random
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pyloader.fake_erp.generator import ENTITY_NO, Dataset, mix, parse_us, unit
from pyloader.normalize import ENTITIES, entity

MAX_LIMIT = 5000
DEFAULT_LIMIT = 1000


@dataclasses.dataclass
class Faults:
    """What goes wrong, and how often (rates are per request or per record, 0..1)."""

    error_rate: float = 0.0  # 500/502/503 answers
    rate_limit_rate: float = 0.0  # 429 answers
    retry_after: float | None = 0  # the Retry-After they carry (None: no header)
    drop_rate: float = 0.0  # the connection is closed without (or halfway through) an answer
    slow_rate: float = 0.0  # pages answered only after `slow_seconds`
    slow_seconds: float = 0.0
    repeat_rate: float = 0.0  # a page whose next_cursor points at itself (served twice)
    malformed_rate: float = 0.0  # records replaced by a broken variant of themselves
    broken_from_page: dict = dataclasses.field(default_factory=dict)  # entity -> page no. from which pages are not JSON
    status_for: dict = dataclasses.field(default_factory=dict)  # entity -> HTTP status always answered
    # hostile modes (issue 14): an API that is not merely unreliable but holds on or never ends
    drip_for: dict = dataclasses.field(default_factory=dict)  # entity -> seconds between bytes of every answer
    huge_page_for: dict = dataclasses.field(default_factory=dict)  # entity -> bytes streamed, no Content-Length
    cursor_loop: set = dataclasses.field(default_factory=set)  # entities whose third page points back: A -> B -> A
    endless: set = dataclasses.field(default_factory=set)  # entities whose pages are empty, each with a new cursor
    extra_records: dict = dataclasses.field(default_factory=dict)  # entity -> records added to its first page


MALFORMED_KINDS = (
    "impossible_date",
    "nan_quantity",
    "string_quantity",
    "unknown_status",
    "missing_key",
    "empty_key",
    "long_field",
    "object_quantity",
)


def _numeric_field(name: str) -> str:
    for f in entity(name).fields:
        if f.kind in ("numeric", "int"):
            return f.name
    raise AssertionError(name)


def malformed(name: str, rec: dict, h: int) -> dict:
    """A broken variant of a record: each kind is one of the rejects the loader must make."""
    kinds = MALFORMED_KINDS
    kind = kinds[h % len(kinds)]
    ent = entity(name)
    rec = dict(rec)
    date_fields = [f.name for f in ent.fields if f.kind == "date"]
    enum_fields = [f.name for f in ent.fields if f.kind == "enum"]
    if kind == "impossible_date" and not date_fields:
        kind = "long_field"
    if kind == "unknown_status" and not enum_fields:
        kind = "string_quantity"
    if kind == "impossible_date":
        rec[date_fields[0]] = "2025-02-30"
    elif kind == "nan_quantity":
        rec[_numeric_field(name)] = float("nan")
    elif kind == "string_quantity":
        rec[_numeric_field(name)] = "12"
    elif kind == "object_quantity":
        rec[_numeric_field(name)] = {"value": 1}
    elif kind == "unknown_status":
        rec[enum_fields[-1]] = "mislaid"
    elif kind == "missing_key":
        del rec[ent.key_names[0]]
    elif kind == "empty_key":
        rec[ent.key_names[0]] = ""
    else:
        rec[[f.name for f in ent.fields if f.kind in ("id", "text")][-1]] = "x" * 10_001
    return rec


def is_malformed(ds: Dataset, name: str, segment: int, pos: int, rate: float) -> int | None:
    """The hash that picks a broken variant, when this record is one; else None."""
    if rate <= 0:
        return None
    h = mix(ds.seed, 9000 + 100 * segment + ENTITY_NO[name], pos)
    return h if unit(h) < rate else None


def encode_cursor(generation: int, since_us: int | None, page: int, positions: list[int], repeated: bool) -> str:
    text = f"{generation}.{'' if since_us is None else since_us}.{page}.{int(repeated)}.{'-'.join(map(str, positions))}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str):
    pad = "=" * (-len(cursor) % 4)
    gen, since, page, rep, pos = base64.urlsafe_b64decode(cursor + pad).decode().split(".")
    return int(gen), (int(since) if since else None), int(page), rep == "1", [int(p) for p in pos.split("-")]


class FakeErp:
    """The data set, the current generation, the faults and the counters."""

    def __init__(self, seed: int = 1, size: str = "small", *, generation: int = 0, token: str | None = None,
                 faults: Faults | None = None, fault_seed: int | None = None, **dataset_kw):
        self.dataset = Dataset(seed, size, **dataset_kw)
        self.generation = generation
        self.token = token
        self.faults = faults or Faults()
        self._rng = random.Random(seed if fault_seed is None else fault_seed)
        self._lock = threading.Lock()
        self._just_faulted: set[str] = set()
        self._first_cursor: dict[str, str] = {}
        self.stats: dict[str, int] = {}

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.stats[what] = self.stats.get(what, 0) + n

    def set_generation(self, n: int | None = None) -> int:
        with self._lock:
            self.generation = self.generation + 1 if n is None else int(n)
            return self.generation

    def draw_fault(self, request_key: str) -> str | None:
        """Which fault, if any, this request gets (never twice in a row for one request)."""
        f = self.faults
        with self._lock:
            if request_key in self._just_faulted:
                self._just_faulted.discard(request_key)
                return None
            x = self._rng.random()
            fault = None
            for name, rate in (("error", f.error_rate), ("rate_limit", f.rate_limit_rate), ("drop", f.drop_rate),
                               ("slow", f.slow_rate)):
                if x < rate:
                    fault = name
                    break
                x -= rate
            if fault:
                if len(self._just_faulted) > 10_000:
                    self._just_faulted.clear()
                self._just_faulted.add(request_key)
            return fault

    def page(self, name: str, *, since: str | None, cursor: str | None, limit: int) -> tuple[bytes, int]:
        """The body of one page and its page number."""
        ds = self.dataset
        if name in self.faults.endless:
            n = int(cursor[len("endless-"):]) if cursor and cursor.startswith("endless-") else 0
            self.count("endless_pages")
            return json.dumps({"data": [], "next_cursor": f"endless-{n + 1}"}).encode(), n + 1
        if cursor:
            generation, since_us, page_no, repeated, positions = decode_cursor(cursor)
        else:
            generation, page_no, repeated, positions = self.generation, 1, False, None
            since_us = parse_us(since) if since else None
        records = []
        n = 0
        after = positions
        stream = ds.stream(name, generation, since_us=since_us, positions=positions)
        rate = self.faults.malformed_rate
        for _, after, seg, rec in stream:
            if rec is None:
                continue
            h = is_malformed(ds, name, seg, after[seg] - 1, rate)
            if h is not None:
                rec = malformed(name, rec, h)
                self.count("malformed")
            records.append(rec)
            n += 1
            if n >= limit:
                break
        else:
            after = None  # the stream ran out: this is the last page
        if after is not None:
            # more may follow; an exhausted stream answers an empty last page
            after = list(after)
        if cursor is None:
            records = list(self.faults.extra_records.get(name, ())) + records
        if name in self.faults.cursor_loop and after is not None and cursor is not None and page_no >= 3:
            next_cursor = self._first_cursor[name]  # already followed: A -> B -> A
            self.count("looped")
        elif after is not None and cursor is not None and not repeated and self._repeat():
            next_cursor = encode_cursor(generation, since_us, page_no, positions, True)
            self.count("repeated")
        elif after is not None:
            next_cursor = encode_cursor(generation, since_us, page_no + 1, after, False)
        else:
            next_cursor = None
        if cursor is None and next_cursor is not None:
            self._first_cursor[name] = next_cursor
        self.count("records", n)
        body = json.dumps({"data": records, "next_cursor": next_cursor}, separators=(",", ":"))
        return body.encode(), page_no

    def _repeat(self) -> bool:
        rate = self.faults.repeat_rate
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-erp/1"
    erp: FakeErp  # set on the subclass per server

    def log_message(self, format, *args):  # quiet: tests and benchmarks read stdout
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        drip = self.erp.faults.drip_for.get(self._entity)
        if drip:
            return self._drip(status, body, drip)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    _entity = None  # the collection of the request being answered

    def _drip(self, status: int, body: bytes, seconds: float) -> None:
        """The whole answer, status line first, one byte every `seconds`: no socket timeout ever trips."""
        self.erp.count("dripped")
        head = (f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.close_connection = True
        try:
            for i in range(len(head) + len(body)):
                self.wfile.write((head + body)[i:i + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:
            pass  # the client gave up: what a deadline is for

    def _huge(self, size: int) -> None:
        """A 200 page that never says its length and runs to `size` bytes (spaces are valid JSON)."""
        self.erp.count("huge_pages")
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(b'{"data": [], "next_cursor": null}')
            chunk = b" " * 65536
            for _ in range(size // len(chunk) + 1):
                self.wfile.write(chunk)
        except OSError:
            pass

    def _error(self, status: int, message: str, headers: dict | None = None) -> None:
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def _authorized(self) -> bool:
        token = self.erp.token
        if token is None:
            return True
        return self.headers.get("Authorization", "") == f"Bearer {token}"

    def do_GET(self):  # noqa: N802 - the stdlib's name
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = [p for p in url.path.split("/") if p]
        erp = self.erp
        erp.count("requests")
        if parts == ["admin", "state"]:
            return self._send(200, json.dumps({"generation": erp.generation, "stats": erp.stats}).encode())
        if not self._authorized():
            erp.count("unauthorized")
            return self._error(401, "missing or wrong bearer token")
        if len(parts) != 2 or parts[0] != "v1" or parts[1] not in ENTITIES:
            return self._error(404, f"no collection {url.path}")
        name = self._entity = parts[1]
        if name in erp.faults.huge_page_for:
            return self._huge(int(erp.faults.huge_page_for[name]))
        if name in erp.faults.status_for:
            status = int(erp.faults.status_for[name])
            return self._error(status, "injected", {"Retry-After": "0"} if status == 429 else None)
        try:
            limit = int(query.get("limit", DEFAULT_LIMIT))
            if not 1 <= limit <= MAX_LIMIT:
                raise ValueError
        except ValueError:
            return self._error(400, f"limit must be 1..{MAX_LIMIT}")
        fault = erp.draw_fault(self.path)
        if fault == "error":
            erp.count("errors")
            return self._error(erp._rng.choice((500, 502, 503)), "injected")
        if fault == "rate_limit":
            erp.count("rate_limited")
            ra = erp.faults.retry_after
            return self._error(429, "slow down", None if ra is None else {"Retry-After": f"{ra:g}"})
        try:
            body, page_no = erp.page(name, since=query.get("updated_since"), cursor=query.get("cursor"), limit=limit)
        except (ValueError, TypeError) as exc:
            return self._error(400, f"bad request: {exc}")
        if fault == "drop":
            erp.count("dropped")
            self.close_connection = True
            if len(body) > 64 and erp._rng.random() < 0.5:  # halfway through the body
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
            return
        broken_from = erp.faults.broken_from_page.get(name)
        if broken_from is not None and page_no >= broken_from:
            erp.count("broken_pages")
            return self._send(200, b'{"data": [{"oops": tr')
        if fault == "slow":
            erp.count("slow")
            time.sleep(erp.faults.slow_seconds)
        erp.count("pages")
        self._send(200, body)

    def do_POST(self):  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if url.path.rstrip("/") != "/admin/generation":
            return self._error(404, f"no such endpoint {url.path}")
        if not self._authorized():
            return self._error(401, "missing or wrong bearer token")
        try:
            gen = self.erp.set_generation(int(query["n"]) if "n" in query else None)
        except ValueError:
            return self._error(400, "n must be an integer")
        self._send(200, json.dumps({"generation": gen}).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client that gave up on a slow page closes its end: not worth a traceback
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class FakeErpServer:
    """The API on a real socket, in a background thread: `with FakeErpServer(erp) as srv: srv.url`."""

    def __init__(self, erp: FakeErp, host: str = "127.0.0.1", port: int = 0):
        self.erp = erp
        handler = type("FakeErpHandler", (_Handler,), {"erp": erp})
        self.httpd = _Server((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeErpServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fake-erp", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeErpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
