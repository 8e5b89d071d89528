"""The low-latency runner: process a tenant's queue as soon as it is marked.

mark_keys() (sql/tenant/070_dirty_marking.sql) sends NOTIFY masterfile_dirty
with the tenant's schema in the transaction that marks; the notification is
delivered when that transaction commits. The worker LISTENs, and for each
named tenant CALLs `<schema>.process_dirty()` as the tenant's pipeline role,
in slices, until its queue is empty. Every `poll_seconds` it looks at every
tenant anyway (a notification is a hint: the queue is the source of truth,
and one sent while the worker was down is gone). pg_cron stays the safety net.

Guarantees:
- LISTEN starts before the first look at the queues, so no mark committed
  after the worker started waits for the poll.
- A tenant with nothing queued (and end_week unchanged) is not CALLed, so an
  idle worker writes no `runs` rows.
- Tenants are served in slices of at most `slice_seconds`, round robin, so a
  large backlog of one tenant delays another by about one slice.
- A tenant whose CALL processed nothing while keys are queued (another runner
  holds them) is left to that runner until the next notification or poll.
- stop() (SIGTERM, SIGINT) ends the worker after the slice in progress:
  process_dirty commits per batch, so nothing half-done is left behind.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from pyloader import db, queries
from pyloader.config import tenant_roles, validate_client_id

CHANNEL = "masterfile_dirty"
WAIT_STEP = 1.0  # the longest a stop request waits while the worker is idle
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10)


# --- named SQL ------------------------------------------------------------------

LISTEN = sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL))


def q_has_work(schema: str) -> sql.Composed:
    """Marks are queued, or end_week moved (check_end_week() would queue every key)."""
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM {s}.dirty_keys)"
        " OR (SELECT end_week FROM {s}.pipeline_state) IS DISTINCT FROM {s}.end_week()"
    ).format(s=sql.Identifier(schema))


def q_last_run(schema: str) -> sql.Composed:
    return sql.SQL(
        "SELECT keys_done, rows_written FROM {}.runs WHERE trigger = %(trigger)s ORDER BY run_id DESC LIMIT 1"
    ).format(sql.Identifier(schema))


# --- the worker -----------------------------------------------------------------


class Worker:
    """Serves every tenant of the database at DATABASE_URL, or one (client_id)."""

    def __init__(self, url: str | None = None, client_id: str | None = None, *, poll_seconds: float = 10.0,
                 batch_size: int = 500, slice_seconds: float = 5.0,
                 log: Callable[[str], None] | None = None):
        if client_id is not None:
            validate_client_id(client_id)
        self.url = url
        self.client_id = client_id
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.slice_seconds = slice_seconds
        self.log = log or (lambda msg: None)
        # one runs.trigger per worker process, to find its own runs
        self.trigger = f"worker {os.getpid()}"
        self._stop = threading.Event()
        # set while every served queue is empty and the worker waits (tests, benchmarks)
        self.idle = threading.Event()
        self._listen: psycopg.Connection | None = None
        self._conns: dict[str, psycopg.Connection] = {}
        self.tenants: dict[str, str] = {}  # schema -> client id
        self.totals = {"calls": 0, "keys_done": 0, "rows_written": 0, "notifications": 0}

    # -- control

    def stop(self) -> None:
        """Ask the worker to end after the slice in progress (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- main loop

    def run(self, *, once: bool = False) -> dict:
        """Serve until stop(); with `once`, empty every tenant's queue and return.

        A database that cannot be reached at the start is an error; one lost
        later is waited for, reconnecting with backoff (not with `once`).
        """
        self._connect()
        attempt = 0
        try:
            while not self.stopping:
                try:
                    if self._listen is None:
                        self._connect()
                        attempt = 0
                    self._serve(once)
                    break
                except (psycopg.OperationalError, db.DatabaseUnavailable) as exc:
                    self._close()
                    if once:
                        raise
                    delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                    attempt += 1
                    self.log(f"worker: database unavailable ({_first_line(exc)}); retrying in {delay}s")
                    self._stop.wait(delay)
        finally:
            self.idle.clear()
            self._close()
        return dict(self.totals, tenants=sorted(self.tenants.values()))

    def _serve(self, once: bool) -> None:
        pending = list(self.tenants)  # catch up on whatever is queued already
        next_poll = time.monotonic() + self.poll_seconds
        while not self.stopping:
            if pending:
                self.idle.clear()
                schema = pending.pop(0)
                if self._slice(schema):
                    pending.append(schema)  # more queued: after the others had their turn
                self._collect(pending, timeout=0)
                continue
            if once:
                return
            now = time.monotonic()
            if now >= next_poll:
                self._load_tenants()
                pending.extend(self.tenants)
                next_poll = now + self.poll_seconds
                continue
            self.idle.set()
            self._collect(pending, timeout=min(WAIT_STEP, next_poll - now))

    def _collect(self, pending: list[str], timeout: float) -> None:
        """Add the tenants named by notifications to `pending` (waiting up to `timeout`)."""
        for note in self._listen.notifies(timeout=timeout, stop_after=1):
            self.totals["notifications"] += 1
            schema = note.payload
            if schema not in self.tenants and self.client_id is None:
                self._load_tenants()  # a tenant created since the worker started
            if schema in self.tenants and schema not in pending:
                pending.append(schema)

    def _slice(self, schema: str) -> bool:
        """Process one slice of a tenant's queue; True when more is queued and it made progress."""
        try:
            return self._process(schema)
        except psycopg.OperationalError:
            raise  # the connection: run() reconnects
        except psycopg.Error as exc:
            # the tenant's own problem (a migration in progress, a dropped
            # schema): the others go on, and the next poll tries again
            self.log(f"worker: {schema}: {_first_line(exc)}")
            return False

    def _process(self, schema: str) -> bool:
        conn = self._tenant_conn(schema)
        if not conn.execute(q_has_work(schema)).fetchone()[0]:
            return False
        started = time.monotonic()
        conn.execute(queries.process_dirty(schema),
                     {"batch": self.batch_size, "seconds": self.slice_seconds, "trigger": self.trigger})
        keys_done, rows = conn.execute(q_last_run(schema), {"trigger": self.trigger}).fetchone()
        self.totals["calls"] += 1
        self.totals["keys_done"] += keys_done
        self.totals["rows_written"] += rows
        if keys_done:
            self.log(f"worker: {self.tenants[schema]}: {keys_done} keys, {rows} rows written in "
                     f"{time.monotonic() - started:.3f}s")
        return keys_done > 0 and conn.execute(q_has_work(schema)).fetchone()[0]

    # -- connections

    def _connect(self) -> None:
        self._listen = db.connect(self.url, autocommit=True)
        self._listen.execute(LISTEN)
        self._load_tenants()

    def _load_tenants(self) -> None:
        if self.client_id is not None:
            self.tenants = {db.tenant_schema(self._listen, self.client_id): self.client_id}
        else:
            self.tenants = {schema: client_id for client_id, schema, _ in
                            self._listen.execute(queries.LIST_TENANTS).fetchall()}
        for schema in set(self._conns) - set(self.tenants):
            self._conns.pop(schema).close()

    def _tenant_conn(self, schema: str) -> psycopg.Connection:
        conn = self._conns.get(schema)
        if conn is None or conn.closed:
            # one session per tenant, kept: the PL/Python kernel loads once
            conn = db.connect(self.url, role=tenant_roles(schema)["pipeline"], autocommit=True)
            self._conns[schema] = conn
        return conn

    def _close(self) -> None:
        for conn in [self._listen, *self._conns.values()]:
            if conn is not None:
                try:
                    conn.close()
                except psycopg.Error:
                    pass
        self._listen = None
        self._conns = {}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def log_to_stderr(msg: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}", file=sys.stderr, flush=True)
