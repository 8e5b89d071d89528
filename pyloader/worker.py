"""The low-latency runner: process tenants' queues as soon as they are marked.

The marking code (sql/tenant/070_marking.sql) adds a work hint for its
tenant and sends NOTIFY masterfile_dirty, with no payload, in the transaction
that marks; the notification is delivered when that transaction commits. The
worker LISTENs on that one channel with one connection, and on every
notification (or every `poll_seconds`) wakes a bounded pool of `sessions`
connections, each of which CALLs masterfile.dispatch(): the same scheduler
pg_cron's jobs run, which takes the tenants that have hints in turn, one slice
each, as their pipeline roles. pg_cron stays the safety net.

Guarantees:
- One LISTEN connection and at most `sessions` processing connections, all
  logged in as the authenticator role, whatever the number of tenants.
- A notification is only a wake-up: its payload is ignored (any role can
  send one on any channel), and the worker never runs a query while it
  reads notifications. What to process comes from the hints and the queues.
- LISTEN starts before the first dispatch, so no mark committed after the
  worker started waits for the poll.
- An idle wake-up reads one index and writes nothing.
- Tenants are served in slices of at most `slice_seconds`, oldest hint first,
  so a large backlog of one tenant delays another by about one slice, and
  not at all while another session of the pool is free.
- stop() (SIGTERM, SIGINT) ends the worker after the slices in progress:
  every batch commits, so nothing half-done is left behind.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import psycopg

from pyloader import db, queries
from pyloader.errors import describe
from pyloader.config import schema_for, validate_client_id

CHANNEL = "masterfile_dirty"
WAIT_STEP = 1.0  # the longest a stop request waits while the worker is idle
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10)

LISTEN = queries.listen(CHANNEL)


class Worker:
    """Serves every tenant of the database at DATABASE_URL, or one (client_id)."""

    def __init__(self, url: str | None = None, client_id: str | None = None, *, poll_seconds: float = 10.0,
                 batch_size: int = 500, slice_seconds: float = 5.0, sessions: int | None = None,
                 log: Callable[[str], None] | None = None):
        if client_id is not None:
            validate_client_id(client_id)
        self.url = url
        self.client_id = client_id
        self.only = schema_for(client_id) if client_id is not None else None
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.slice_seconds = slice_seconds
        self.sessions = sessions or os.cpu_count() or 2
        if self.sessions < 1:
            raise ValueError(f"sessions must be at least 1, got {sessions}")
        self.log = log or (lambda msg: None)
        # one runs.trigger per worker process, to find its own runs
        self.trigger = f"worker {os.getpid()}"
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._generation = 0  # bumped by every wake-up
        self._busy = 0  # pool sessions inside a dispatch call, under _wake
        # set while the pool is idle and nothing eligible is hinted (tests, benchmarks)
        self.idle = threading.Event()
        self._listen: psycopg.Connection | None = None
        self.totals = {"calls": 0, "turns": 0, "keys_done": 0, "rows_written": 0, "notifications": 0}
        self._totals_lock = threading.Lock()
        self.peak_sessions = 0

    # -- control

    def stop(self) -> None:
        """Ask the worker to end after the slices in progress (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- main loop

    def run(self, *, once: bool = False) -> dict:
        """Serve until stop(); with `once`, dispatch until nothing is hinted and return.

        A database that cannot be reached at the start is an error; one lost
        later is waited for, reconnecting with backoff (not with `once`).
        """
        if self.only is not None:
            with db.open_app(self.url, autocommit=True) as conn:
                db.tenant_schema(conn, self.client_id)  # an unknown tenant is an error now
        if once:
            with db.open_app(self.url, autocommit=True) as conn:
                while not self.stopping and self._dispatch(conn, max_seconds=self.slice_seconds):
                    pass
            return self._result()
        self._connect_listener()
        pool = [threading.Thread(target=self._session, name=f"worker-session-{i}", daemon=True)
                for i in range(self.sessions)]
        for t in pool:
            t.start()
        attempt = 0
        try:
            self._signal()  # catch up on whatever is hinted already
            next_poll = time.monotonic() + self.poll_seconds
            while not self.stopping:
                try:
                    if self._listen is None:
                        self._connect_listener()
                        attempt = 0
                        self._signal()
                    timeout = max(0.0, min(WAIT_STEP, next_poll - time.monotonic()))
                    # read every pending notification first: no query runs on
                    # this connection while psycopg's generator holds it
                    notes = list(self._listen.notifies(timeout=timeout, stop_after=1))
                    if notes:
                        self.totals["notifications"] += len(notes)
                        self._signal()
                    if time.monotonic() >= next_poll:
                        next_poll = time.monotonic() + self.poll_seconds
                        self._signal()
                except (psycopg.OperationalError, db.DatabaseUnavailable) as exc:
                    self._close_listener()
                    delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                    attempt += 1
                    self.log(f"worker: database unavailable ({describe(exc)}); retrying in {delay}s")
                    self._stop.wait(delay)
        finally:
            self._stop.set()
            self._signal()
            for t in pool:
                t.join()
            self.idle.clear()
            self._close_listener()
        return self._result()

    def _result(self) -> dict:
        return dict(self.totals, sessions=self.sessions, peak_sessions=self.peak_sessions)

    def _signal(self) -> None:
        with self._wake:
            self._generation += 1
            self.idle.clear()
            self._wake.notify_all()

    # -- the pool

    def _session(self) -> None:
        """One pool session: dispatch while anything eligible is hinted, then wait for a wake-up."""
        conn: psycopg.Connection | None = None
        seen = -1
        attempt = 0
        while not self.stopping:
            with self._wake:
                while self._generation == seen and not self.stopping:
                    if self._busy == 0:
                        self.idle.set()
                    self._wake.wait(WAIT_STEP)
                if self.stopping:
                    break
                seen = self._generation
            try:
                if conn is None or conn.closed:
                    conn = db.open_app(self.url, autocommit=True)
                    attempt = 0
                while not self.stopping and self._dispatch(conn, max_seconds=self.slice_seconds):
                    pass
            except psycopg.Error as exc:
                # a tenant's own problem (a migration in progress, a dropped
                # schema) or the connection: a new session, and the next
                # wake-up tries again; the others go on
                self.log(f"worker: {describe(exc)}")
                if conn is not None:
                    conn.close()  # its session locks (a dispatch turn) go with it
                conn = None
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                attempt += 1
                self._stop.wait(delay)
                seen = -1
        if conn is not None:
            conn.close()

    def _dispatch(self, conn: psycopg.Connection, *, max_seconds: float) -> bool:
        """One dispatch call; True when it did work and more is eligible."""
        with self._wake:
            self._busy += 1
            self.peak_sessions = max(self.peak_sessions, self._busy)
        try:
            started = time.monotonic()
            turns, keys, rows = conn.execute(queries.DISPATCH, {
                "max_seconds": max_seconds, "slice_seconds": self.slice_seconds, "batch": self.batch_size,
                "trigger": self.trigger, "only": self.only}).fetchone()
            with self._totals_lock:
                self.totals["calls"] += 1
                self.totals["turns"] += turns
                self.totals["keys_done"] += keys
                self.totals["rows_written"] += rows
            if keys:
                self.log(f"worker: {turns} tenant turns, {keys} keys, {rows} rows written in "
                         f"{time.monotonic() - started:.3f}s")
            return turns > 0 and conn.execute(queries.HINTED, {"only": self.only}).fetchone()[0]
        finally:
            with self._wake:
                self._busy -= 1

    # -- the listener

    def _connect_listener(self) -> None:
        self._listen = db.open_app(self.url, autocommit=True)
        self._listen.execute(LISTEN)

    def _close_listener(self) -> None:
        if self._listen is not None:
            try:
                self._listen.close()
            except psycopg.Error:
                pass
        self._listen = None


def log_to_stderr(msg: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}", file=sys.stderr, flush=True)
