"""The change feed behind `GET /events`, derived from the database itself.

No NOTIFY payload is trusted (any role can send one) and no connection is
held per client: while a tenant has subscribers, one poller asks every
`interval` seconds, on a pooled connection under the tenant's reader role,
which recommendations the pipeline wrote since the last look (computed_at,
indexed by t0012), and fans the rows out in memory to that tenant's
subscribers only.

computed_at is the writing transaction's start, and a transaction may
commit after a later one: each look reaches back `overlap` seconds and
skips the (key, computed_at) pairs already sent, so a batch that commits up
to `overlap` seconds after it started is still seen, and seen once.

Each look's events are encoded once, as one `text/event-stream` chunk that
every subscriber of the tenant shares. Every subscriber has a bounded queue
of such chunks: one that falls `queue_size` looks behind (a slow or stalled
client) is dropped (its stream ends), never buffered without bound.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable

from pyloader import queries

log = logging.getLogger("pyloader.api.events")

CLOSED = None  # the sentinel that ends a subscriber's stream


@dataclasses.dataclass(eq=False)
class Subscriber:
    schema: str
    queue: asyncio.Queue
    dropped: bool = False


@dataclasses.dataclass
class _Feed:
    """One tenant's feed: the watermark and the pairs sent within the overlap."""
    since: dt.datetime | None = None
    seen: dict = dataclasses.field(default_factory=dict)  # (product_id, location_id, computed_at) -> computed_at
    subscribers: set = dataclasses.field(default_factory=set)


def sse(event: str, data: dict) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


class EventHub:
    """Subscribers per tenant and the poller that feeds them.

    `in_tenant(schema, fn)` runs fn(conn) in one pooled transaction under the
    tenant's reader role and returns its result (blocking; called in a thread).
    """

    def __init__(self, in_tenant: Callable, *, interval: float = 0.2, overlap: float = 30.0,
                 queue_size: int = 64, batch: int = 100_000):
        self.in_tenant = in_tenant
        self.interval = interval
        self.overlap = dt.timedelta(seconds=overlap)
        self.queue_size = queue_size
        self.batch = batch
        self._feeds: dict[str, _Feed] = {}
        self._task: asyncio.Task | None = None

    # --- subscribers (on the event loop) ---------------------------------------

    async def subscribe(self, schema: str) -> Subscriber:
        feed = self._feeds.get(schema)
        if feed is None:
            # a new feed starts at the database's now: only changes after the stream opened
            now = await asyncio.to_thread(self.in_tenant, schema, lambda c: c.execute(queries.NOW).fetchone()[0])
            feed = self._feeds.setdefault(schema, _Feed(since=now))
        sub = Subscriber(schema, asyncio.Queue(maxsize=self.queue_size))
        feed.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        feed = self._feeds.get(sub.schema)
        if feed is not None:
            feed.subscribers.discard(sub)
            if not feed.subscribers:
                del self._feeds[sub.schema]

    def subscriber_count(self) -> int:
        return sum(len(f.subscribers) for f in self._feeds.values())

    def _publish(self, feed: _Feed, chunk: bytes) -> None:
        for sub in list(feed.subscribers):
            if sub.dropped:
                continue
            try:
                sub.queue.put_nowait(chunk)
            except asyncio.QueueFull:
                self._drop(sub)

    def _drop(self, sub: Subscriber) -> None:
        """A client too slow to keep up: free what it holds and end its stream."""
        sub.dropped = True
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(CLOSED)
        log.info("events: dropped a subscriber of %s that fell %d looks behind", sub.schema, self.queue_size)

    # --- the poller -------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for feed in self._feeds.values():
            for sub in feed.subscribers:
                sub.queue.put_nowait(CLOSED) if not sub.queue.full() else self._drop(sub)

    async def _run(self) -> None:
        while True:
            started = asyncio.get_running_loop().time()
            for schema, feed in list(self._feeds.items()):
                try:
                    events = await asyncio.to_thread(self.in_tenant, schema, lambda c, f=feed: self._changes(c, f))
                except Exception as exc:  # a lost connection: look again at the next tick
                    log.warning("events: polling %s failed: %s", schema, exc)
                    continue
                if events:
                    self._publish(feed, b"".join(sse("recommendation", e) for e in events))
            elapsed = asyncio.get_running_loop().time() - started
            await asyncio.sleep(max(self.interval - elapsed, 0.01))

    def _changes(self, conn, feed: _Feed) -> list[dict]:
        """The rows written since the last look that were not sent yet (in a thread)."""
        rows = conn.execute(queries.CHANGED_RECOMMENDATIONS,
                            {"since": feed.since - self.overlap, "limit": self.batch}).fetchall()
        events = []
        for product_id, location_id, qty, reason, computed_at in rows:
            pair = (product_id, location_id, computed_at)
            if pair in feed.seen:
                continue
            feed.seen[pair] = computed_at
            events.append({"product_id": product_id, "location_id": location_id, "recommended_qty": qty,
                           "reason": reason, "computed_at": computed_at.isoformat()})
            if computed_at > feed.since:
                feed.since = computed_at
        horizon = feed.since - self.overlap
        for pair in [p for p, at in feed.seen.items() if at <= horizon]:
            del feed.seen[pair]
        return events
