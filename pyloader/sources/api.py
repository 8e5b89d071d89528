"""The ERP API client (interface.md, "The ERP API that --api reads").

    GET {URL}/v1/{entity}?updated_since=...&cursor=...&limit=...
    Authorization: Bearer {token}

Pages are fetched one at a time over one keep-alive connection and followed
until `next_cursor` is null. 429, 5xx, timeouts and broken connections are
retried by tenacity with exponential backoff (a 429's Retry-After is a floor
under the backoff, never a licence to retry at once), each retry logged on
stderr with its reason; 401, 403 and 404 fail at once with a message that
says what to check. The token goes into the Authorization header and nowhere
else: not into a URL, a message or a log.

A hostile or broken API cannot hold a load (and the tenant's load lock)
forever: each request has an overall deadline (a server that sends one byte
every ten seconds is cut off), a page has a size cap, and a collection whose
cursors come back (A -> B -> A) or never end stops with a clear message.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import http.client
import logging
import random
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator

import tenacity

from pyloader.errors import describe
from pyloader.sources import SourceError
from pyloader.sources.files import loads_json

USER_AGENT = "masterfile-pyloader/1"
MAX_CURSOR_CHARS = 4096

log = logging.getLogger("pyloader.load")


class ApiError(SourceError):
    """The API refused or kept failing; `fatal` means no other entity will fare better."""

    def __init__(self, message: str, *, fatal: bool = False, status: int | None = None):
        super().__init__(message)
        self.fatal = fatal
        self.status = status


class _Transient(Exception):
    """One attempt that may succeed when tried again."""

    def __init__(self, reason: str, *, retry_after: float | None = None, connection: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.connection = connection  # the API could not be reached at all


@dataclasses.dataclass
class RetryPolicy:
    attempts: int = 6  # tries per page, the first included
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    max_backoff: float = 8.0
    max_retry_after: float = 60.0  # a Retry-After beyond this is capped, not obeyed blindly
    timeout: float = 30.0  # socket timeout: the longest silence within a request
    deadline: float = 120.0  # the longest a whole request (connect, headers, body) may take

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before retry number `attempt` (1-based): backoff with +-25% jitter, at least Retry-After."""
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1))) * random.uniform(0.75, 1.25)
        if retry_after is not None:
            base = max(base, min(retry_after, self.max_retry_after))
        return base


@dataclasses.dataclass
class PageLimits:
    """What one collection may cost before it is refused as broken or hostile."""

    max_page_bytes: int = 64 << 20  # 5,000 records of ~13 KiB each
    max_pages: int = 100_000  # 500 million records at 5,000 a page
    max_empty_pages: int = 100  # pages in a row with no record and yet a next_cursor


_HINTS = {
    401: "the token was refused: check MASTERFILE_ERP_TOKEN or the tenant's loader_config.api_token",
    403: "the token may not read this collection",
    404: "no such collection: check the API URL",
}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def format_since(ts: dt.datetime) -> str:
    """RFC 3339 in UTC, microseconds kept."""
    return ts.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclasses.dataclass
class Page:
    number: int
    records: list
    next_cursor: str | None


class _PageTooLarge(Exception):
    pass


class ApiClient:
    """Reads the paginated collections of one ERP API."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        page_size: int = 5000,
        retry: RetryPolicy | None = None,
        limits: PageLimits | None = None,
        sleep=time.sleep,
    ):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError(f"API URL must be http:// or https:// with a host, got {base_url!r}", fatal=True)
        self.base_url = base_url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self.page_size = max(1, min(5000, int(page_size)))
        self.retry = retry or RetryPolicy()
        self.limits = limits or PageLimits()
        self._sleep = sleep
        self._conn: http.client.HTTPConnection | None = None
        self.requests = 0
        self.retries = 0

    def __repr__(self) -> str:  # never the token
        return f"ApiClient({self.base_url!r})"

    # -- connection ------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=min(self.retry.timeout, self.retry.deadline))
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _get(self, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request, cut off at the deadline however slowly the server answers.

        The socket timeout bounds each silence; only a watchdog bounds the
        whole (a byte every few seconds never trips a timeout). At the
        deadline it shuts the socket down, which ends the blocked read.
        """
        conn = self._connection()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self.requests += 1
        expired = threading.Event()

        def cut_off():
            expired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(self.retry.deadline, cut_off)
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = self._read_body(resp)
        except _PageTooLarge:
            self.close()
            raise
        except BaseException:
            self.close()  # the connection is in an unknown state
            if expired.is_set():
                raise TimeoutError(f"no complete answer within {self.retry.deadline:g} s") from None
            raise
        finally:
            watchdog.cancel()
        if resp.will_close or expired.is_set():
            self.close()
        return resp.status, resp.headers, body

    def _read_body(self, resp: http.client.HTTPResponse) -> bytes:
        cap = self.limits.max_page_bytes
        declared = resp.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _PageTooLarge(int(declared))
        chunks, size = [], 0
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                if declared and declared.isdigit() and size < int(declared):
                    # read(amt) does not say when the server hung up early; a half page is no page
                    raise http.client.IncompleteRead(b"".join(chunks), int(declared) - size)
                return b"".join(chunks)
            size += len(chunk)
            if size > cap:
                raise _PageTooLarge(size)
            chunks.append(chunk)

    # -- pages -----------------------------------------------------------------

    def fetch(self, entity: str, *, since: dt.datetime | None, cursor: str | None, number: int) -> Page:
        """One page, retried as the contract says; ApiError when it cannot be had."""
        query = {"limit": str(self.page_size)}
        if since is not None:
            query["updated_since"] = format_since(since)
        if cursor is not None:
            query["cursor"] = cursor
        path = f"{self._prefix}/v1/{urllib.parse.quote(entity)}?{urllib.parse.urlencode(query)}"
        where = f"{entity} page {number} from {self.base_url}"
        policy = self.retry

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception()
            return policy.delay(state.attempt_number, getattr(exc, "retry_after", None))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.retries += 1
            log.warning("%s: retry %d of %d in %.1f s: %s", where, state.attempt_number, policy.attempts - 1,
                        state.next_action.sleep, state.outcome.exception().reason)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.attempts),
            wait=wait,
            retry=tenacity.retry_if_exception_type(_Transient),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, path, where, number)
        except _Transient as exc:
            raise ApiError(f"{where}: giving up after {policy.attempts} attempts: {exc.reason}",
                           fatal=exc.connection) from None

    def _attempt(self, path: str, where: str, number: int) -> Page:
        try:
            status, headers, body = self._get(path)
        except _PageTooLarge as exc:
            raise ApiError(f"{where}: the page is larger than {self.limits.max_page_bytes:,} bytes "
                           f"(at least {exc.args[0]:,}): ask for fewer records with --page-size") from None
        except TimeoutError as exc:
            raise _Transient(f"timed out ({exc})".replace(" (timed out)", "")) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = f"connection failed ({type(exc).__name__}: {exc})".replace(" ()", "").replace(": )", ")")
            # refused or unresolvable: nothing listens there, for any collection
            raise _Transient(reason, connection=isinstance(exc, (ConnectionRefusedError, socket.gaierror))) from None
        if status == 200:
            return self._page(body, where, number)
        if status in _HINTS:
            raise ApiError(f"{where}: HTTP {status}: {_HINTS[status]}", fatal=status == 401, status=status)
        if status == 429:
            raise _Transient("HTTP 429 (rate limited)", retry_after=_retry_after(headers.get("Retry-After")))
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        raise ApiError(f"{where}: HTTP {status}: {body[:200].decode('utf-8', 'replace')}", status=status)

    def _page(self, body: bytes, where: str, number: int) -> Page:
        try:
            doc = loads_json(body)
        except (ValueError, RecursionError) as exc:
            raise ApiError(f"{where}: the page is not JSON ({describe(exc)[:120]})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ApiError(f"{where}: the page has no 'data' list")
        cursor = doc.get("next_cursor")
        if cursor is not None and not (isinstance(cursor, str) and cursor):
            raise ApiError(f"{where}: next_cursor is neither a string nor null")
        if cursor is not None and len(cursor) > MAX_CURSOR_CHARS:
            raise ApiError(f"{where}: next_cursor is longer than {MAX_CURSOR_CHARS} characters")
        return Page(number, doc["data"], cursor)

    def pages(self, entity: str, since: dt.datetime | None) -> Iterator[Page]:
        """Every page of one collection from `since` (inclusive), in order.

        A cursor already followed means the API went round in a circle (A ->
        B -> A): following it again would never end. So would a new cursor
        on every page, for ever: past `max_pages` pages, or `max_empty_pages`
        empty pages in a row, the collection fails.
        """
        cursor = None
        number = 1
        seen: set[str] = set()
        empty = 0
        limits = self.limits
        while True:
            page = self.fetch(entity, since=since, cursor=cursor, number=number)
            yield page
            if page.next_cursor is None:
                return
            where = f"{entity} page {number} from {self.base_url}"
            if page.next_cursor in seen or page.next_cursor == cursor:
                raise ApiError(f"{where}: next_cursor repeats one already followed (the pages go round in a "
                               "circle); stopped")
            empty = 0 if page.records else empty + 1
            if empty >= limits.max_empty_pages:
                raise ApiError(f"{where}: {empty} empty pages in a row, each with a new next_cursor; stopped")
            if number >= limits.max_pages:
                raise ApiError(f"{where}: more than {limits.max_pages:,} pages, each with a new next_cursor; "
                               "stopped")
            seen.add(page.next_cursor)
            cursor = page.next_cursor
            number += 1


class ApiSource:
    """One entity of the API as a record source (the shape `FileSource` has)."""

    typed = True

    def __init__(self, client: ApiClient, entity: str, since: dt.datetime | None):
        self.client = client
        self.entity = entity
        self.since = since
        self.page = 0
        self.position = 0
        self.total = None  # an API does not say how many records will come

    @property
    def label(self) -> str:
        return f"api:{self.client.base_url}"

    def records(self):
        for page in self.client.pages(self.entity, self.since):
            self.page = page.number
            for rec in page.records:
                self.position += 1
                yield rec, rec

    @property
    def done(self) -> int:
        return self.position

    @property
    def retries(self) -> int:
        return self.client.retries

    def raw_text(self, raw):
        return raw
