"""The ERP API client (interface.md, "The ERP API that --api reads").

    GET {URL}/v1/{entity}?updated_since=...&cursor=...&limit=...
    Authorization: Bearer {token}

Pages are fetched one at a time over one keep-alive connection and followed
until `next_cursor` is null. 429 (honouring Retry-After), 5xx, timeouts and
broken connections are retried with exponential backoff; 401, 403 and 404 fail
at once with a message that says what to check. The token goes into the
Authorization header and nowhere else: not into a URL, a message or a log.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import http.client
import random
import time
import urllib.parse
from collections.abc import Iterator

from pyloader.sources import SourceError
from pyloader.sources.files import loads_json

USER_AGENT = "masterfile-pyloader/1"


class ApiError(SourceError):
    """The API refused or kept failing; `fatal` means no other entity will fare better."""

    def __init__(self, message: str, *, fatal: bool = False, status: int | None = None):
        super().__init__(message)
        self.fatal = fatal
        self.status = status


@dataclasses.dataclass
class RetryPolicy:
    attempts: int = 6  # tries per page, the first included
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    max_backoff: float = 8.0
    max_retry_after: float = 60.0  # a Retry-After beyond this is capped, not obeyed blindly
    timeout: float = 30.0  # socket timeout per request

    def delay(self, attempt: int) -> float:
        """Backoff before retry number `attempt` (1-based), with +-25% jitter."""
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base * random.uniform(0.75, 1.25)


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


class ApiClient:
    """Reads the paginated collections of one ERP API."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        page_size: int = 5000,
        retry: RetryPolicy | None = None,
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
            self._conn = cls(self._host, self._port, timeout=self.retry.timeout)
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
        conn = self._connection()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self.requests += 1
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except BaseException:
            self.close()  # the connection is in an unknown state
            raise
        if resp.will_close:
            self.close()
        return resp.status, resp.headers, body

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
        last = "no attempt"
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                self.retries += 1
            wait = None
            try:
                status, headers, body = self._get(path)
            except (OSError, http.client.HTTPException) as exc:
                last = f"connection failed ({type(exc).__name__}: {exc})".replace(" ()", "")
            else:
                if status == 200:
                    return self._page(body, where, number)
                if status in _HINTS:
                    raise ApiError(f"{where}: HTTP {status}: {_HINTS[status]}", fatal=status == 401, status=status)
                if status == 429:
                    last = "HTTP 429 (rate limited)"
                    wait = _retry_after(headers.get("Retry-After"))
                    if wait is not None:
                        wait = min(wait, self.retry.max_retry_after)
                elif status >= 500:
                    last = f"HTTP {status}"
                else:
                    raise ApiError(f"{where}: HTTP {status}: {body[:200].decode('utf-8', 'replace')}", status=status)
            if attempt < self.retry.attempts:
                self._sleep(self.retry.delay(attempt) if wait is None else wait)
        raise ApiError(f"{where}: giving up after {self.retry.attempts} attempts: {last}", fatal=last.startswith("conn"))

    def _page(self, body: bytes, where: str, number: int) -> Page:
        try:
            doc = loads_json(body)
        except (ValueError, RecursionError) as exc:
            raise ApiError(f"{where}: the page is not JSON ({str(exc).splitlines()[0][:120]})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ApiError(f"{where}: the page has no 'data' list")
        cursor = doc.get("next_cursor")
        if cursor is not None and not (isinstance(cursor, str) and cursor):
            raise ApiError(f"{where}: next_cursor is neither a string nor null")
        return Page(number, doc["data"], cursor)

    def pages(self, entity: str, since: dt.datetime | None) -> Iterator[Page]:
        """Every page of one collection from `since` (inclusive), in order."""
        cursor = None
        number = 1
        same = 0
        while True:
            page = self.fetch(entity, since=since, cursor=cursor, number=number)
            yield page
            if page.next_cursor is None:
                return
            # a page may come twice (harmless: applying is idempotent), but not forever
            same = same + 1 if page.next_cursor == cursor else 0
            if same >= 3:
                raise ApiError(f"{entity} page {number} from {self.base_url}: the API keeps returning the same cursor")
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

    @property
    def label(self) -> str:
        return f"api:{self.client.base_url}"

    def records(self):
        for page in self.client.pages(self.entity, self.since):
            self.page = page.number
            for rec in page.records:
                self.position += 1
                yield rec, rec

    def raw_text(self, raw):
        return raw
