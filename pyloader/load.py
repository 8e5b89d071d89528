"""Loading ERP records into a tenant: COPY into staging, one merge per batch.

Guarantees:
- Streaming: a reader thread reads and normalises the next batch while the
  database merges the current one; at most a few batches are in memory.
- Each batch is one transaction: COPY into a temporary staging table, one
  set-based upsert, the batch's rejects and the load's counters. A batch is
  either wholly applied or not at all.
- The upsert writes a row only when the record is newer than the stored one
  (or new): a replay writes nothing (`unchanged`), an older record is
  skipped (`stale`), and within a batch the newest version of a key wins.
  A tombstone soft-deletes: the row stays, `deleted` is set, and fields the
  tombstone leaves out keep their values.
- Every load of an entity is a row in `loads` (running -> succeeded |
  failed | interrupted) with its counts: read = applied + unchanged + stale
  + rejected. A load stopped by SIGTERM or SIGINT is marked `interrupted`;
  one whose process died is left `running`, and the next load of the
  tenant (which holds the tenant's load lock, so no other load can be
  running) marks it `interrupted`.
- From the API, an entity's watermark moves only after the whole entity
  loaded, in the transaction that marks its load succeeded, and never past
  now plus FUTURE_TOLERANCE: a record dated in the future is applied and
  counted, but cannot make later loads ask from the year 9999.
- An entity whose records are mostly rejects (more than `max_reject_rate`
  of them: a CSV file named .jsonl) fails, whatever it applied.

Its bookkeeping statements are named in pyloader/queries.sql; the staging
table, its COPY and the merge are built here per entity (the one stated
exception), identifiers composed with psycopg.sql.Identifier.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import tenacity
from psycopg import errors as pgerr
from psycopg import sql

from pyloader import db, errors, queries
from pyloader.normalize import ENTITY_ORDER, Entity, Normalizer, Reject, entity, raw_text
from pyloader.sources import SourceError

log = logging.getLogger("pyloader.load")

# Per batch, the merge's statement triggers mark each key the batch touches,
# whatever its number of lines: 50,000 lines touch ~17,000 keys of the large
# fake ERP where 20,000 touch ~11,500, and the load ran ~15% faster (about
# 20 MiB more peak memory).
BATCH_SIZE = 50_000
PREFETCH_BATCHES = 2  # batches read ahead while one is merged
READER_SWITCH_INTERVAL = 0.0005  # seconds; see prefetch()
DB_ATTEMPTS = 3  # tries of one batch on a retryable database error
RECONNECT_SECONDS = 20.0  # how long a lost database connection is tried again (a restart takes a few seconds)
# an ERP's clock may run a little ahead of ours; a record dated beyond this is "in the future"
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
MAX_REJECT_RATE = 0.5  # an entity with more rejects than this share of its records fails...
# ...once it has this many rejects, or when it rejected everything it read: an
# incremental load of three records, one of them bad, is not a broken feed
# (and failing it would hold its watermark until the ERP fixed the record)
REJECT_RATE_MIN_REJECTS = 10
REJECT_RATE_MIN_READ = 10_000  # records read before a too-high share stops the entity early
TOKEN_ENV = "MASTERFILE_ERP_TOKEN"


class LoadError(RuntimeError):
    """A load that could not run at all (another load running, bad configuration)."""


class ConnectionLost(LoadError):
    """The database went away mid-load and did not come back: nothing can go on."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) asked the load to stop.

    A KeyboardInterrupt, so psycopg cancels a statement in flight just as it
    does on Ctrl-C.
    """

    def __init__(self, signal_name: str = "SIGINT"):
        super().__init__(signal_name)
        self.signal_name = signal_name


# --- staging, COPY and the merge ------------------------------------------------------
# The one exception to "the Python side's SQL lives in queries.sql": these are
# built per entity from its columns (pyloader/normalize.py), and the merge is the
# loader's one set-based statement. Its bookkeeping (loads, rejects, watermarks,
# the load lock) is named in queries.sql.


def staging_name(ent: Entity) -> str:
    return "stg_" + ent.name


def q_create_staging(schema: str, ent: Entity) -> sql.Composed:
    # a session's own table: rows vanish at each commit, so a batch starts empty
    return sql.SQL(
        """
        CREATE TEMPORARY TABLE {stg} (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
        ALTER TABLE {stg} ADD COLUMN seq integer NOT NULL
        """
    ).format(stg=sql.Identifier(staging_name(ent)), target=sql.Identifier(schema, ent.table))


@functools.lru_cache(maxsize=None)
def q_copy_staging(ent: Entity) -> sql.Composed:
    return sql.SQL("COPY {stg} ({cols}) FROM STDIN").format(
        stg=sql.Identifier("pg_temp", staging_name(ent)),
        cols=sql.SQL(", ").join(map(sql.Identifier, ent.columns + ("seq",))),
    )


@functools.lru_cache(maxsize=None)
def q_merge(schema: str, ent: Entity, *, unique: bool = False) -> sql.Composed:
    """The one statement that applies a staged batch, and its counts.

    Every staged row gets a verdict. A key's older copies within the batch
    are `stale` (or `unchanged` when they tie with the newest); the newest
    copy is compared with the stored row (one index probe per key): `insert`
    when there is none, `update` when it is newer, else `unchanged`/`stale`.
    A key above the largest stored key is new without a probe: ERP keys
    mostly grow (transaction and document numbers), so most new lines of a
    load skip the probe, which was a quarter of the merge's time on a table
    of 1.8 million lines. The largest key is read once per statement, from
    the end of the primary key.
    The newest `updated_at` it returns (for the watermark) leaves out rows
    dated after `horizon`, which it counts apart.
    Only `insert` and `update` rows are written, each set by its own
    sub-statement of this one statement: new keys by a plain INSERT (no
    speculative insertion, the bulk of a first load), newer versions by
    INSERT ... ON CONFLICT DO UPDATE, whose condition repeats the comparison
    so a newer row is never overwritten. Rows that do not change are not
    touched at all (not even locked).
    `unique`: the reader saw each key once in this batch, so the ranking
    (a sort of the batch) is left out.
    """
    keys = [sql.Identifier(k) for k in ent.key_names]
    fields = [sql.Identifier(f) for f in ent.field_names]
    cols = sql.SQL(", ").join(keys + fields + [sql.Identifier("updated_at"), sql.Identifier("deleted")])
    key_list = sql.SQL(", ").join(keys)
    match = sql.SQL(" AND ").join(sql.SQL("t.{k} = r.{k}").format(k=k) for k in keys)
    # a tombstone keeps what it does not say; a live record says everything
    sets = [
        sql.SQL("{f} = CASE WHEN excluded.deleted THEN coalesce(excluded.{f}, t.{f}) ELSE excluded.{f} END").format(f=f)
        for f in fields
    ] + [sql.SQL("updated_at = excluded.updated_at, deleted = excluded.deleted, load_id = excluded.load_id")]
    stg = sql.Identifier("pg_temp", staging_name(ent))
    if unique:
        ranked = sql.SQL("SELECT s.*, 1 AS rn, s.updated_at AS newest FROM {stg} s").format(stg=stg)
    else:
        ranked = sql.SQL(
            """SELECT s.*,
                      row_number() OVER (PARTITION BY {keys} ORDER BY s.updated_at DESC, s.seq DESC) AS rn,
                      max(s.updated_at) OVER (PARTITION BY {keys}) AS newest
               FROM {stg} s"""
        ).format(keys=key_list, stg=stg)
    return sql.SQL(
        """
        WITH ranked AS ({ranked}), classified AS (
            SELECT r.*,
                   CASE WHEN r.rn > 1 THEN CASE WHEN r.updated_at = r.newest THEN 'unchanged' ELSE 'stale' END
                        WHEN ({row_key}) > (SELECT {keys} FROM {target} ORDER BY {keys_desc} LIMIT 1) THEN 'insert'
                        ELSE coalesce((SELECT CASE WHEN t.updated_at < r.updated_at THEN 'update'
                                                   WHEN t.updated_at = r.updated_at THEN 'unchanged'
                                                   ELSE 'stale' END
                                       FROM {target} t WHERE {match}), 'insert')
                   END AS verdict
            FROM ranked r
        ), inserted AS (
            INSERT INTO {target} ({cols}, load_id)
            SELECT {cols}, %(load_id)s::bigint FROM classified WHERE verdict = 'insert' ORDER BY {keys}
            RETURNING 1
        ), updated AS (
            INSERT INTO {target} AS t ({cols}, load_id)
            SELECT {cols}, %(load_id)s::bigint FROM classified WHERE verdict = 'update' ORDER BY {keys}
            ON CONFLICT ({keys}) DO UPDATE SET {sets}
            WHERE t.updated_at < excluded.updated_at
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated),
               count(*) FILTER (WHERE verdict IN ('insert', 'update')),
               count(*) FILTER (WHERE verdict = 'unchanged'),
               count(*) FILTER (WHERE verdict = 'stale'),
               max(updated_at) FILTER (WHERE updated_at <= %(horizon)s),
               count(*) FILTER (WHERE updated_at > %(horizon)s),
               max(updated_at) FILTER (WHERE updated_at > %(horizon)s)
        FROM classified
        """
    ).format(
        ranked=ranked,
        keys=key_list,
        row_key=sql.SQL(", ").join(sql.SQL("r.{}").format(k) for k in keys),
        keys_desc=sql.SQL(", ").join(sql.SQL("{} DESC").format(k) for k in keys),
        target=sql.Identifier(schema, ent.table),
        match=match,
        cols=cols,
        sets=sql.SQL(", ").join(sets),
    )


# --- batches ---------------------------------------------------------------------


@dataclasses.dataclass
class Counts:
    read: int = 0
    applied: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    future: int = 0  # of those read, dated after now + FUTURE_TOLERANCE (applied like any other)

    def add(self, other: Counts) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Batch:
    # the lines as one COPY text, joined by the reader thread: the thread that
    # talks to the database then only sends it, and a batch in memory is its
    # text without an object per line
    data: bytes
    rejects: list[tuple[str, str]]  # (raw, reason)
    read: int
    unique: bool = False  # no key twice among the lines

    @property
    def lines(self) -> list[bytes]:
        # COPY text escapes every CR and LF inside a value: a line ends at each one
        return self.data.splitlines(keepends=True)


@dataclasses.dataclass
class EntityResult:
    entity: str
    source: str
    load_id: int | None
    status: str  # running, then succeeded | failed | interrupted
    counts: Counts
    message: str | None = None
    watermark: dt.datetime | None = None  # what the watermark moves to (API loads that succeed)
    watermark_before: dt.datetime | None = None
    seconds: float = 0.0
    unknown_fields: dict[str, int] = dataclasses.field(default_factory=dict)
    retries: int = 0  # API requests and database batches tried again
    newest_future: dt.datetime | None = None
    moves_watermark: bool = False  # an API load; files never move the watermarks
    error: BaseException | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def watermark_after(self) -> dt.datetime | None:
        if self.ok and self.moves_watermark:
            return _newest(self.watermark_before, self.watermark)  # it never moves back
        return self.watermark_before

    def as_json(self) -> dict:
        """The entity's part of `pyloader load --json` (docs/loading.md)."""
        c = self.counts
        return {
            "entity": self.entity, "status": self.status, "source": self.source, "load_id": self.load_id,
            "read": c.read, "applied": c.applied, "unchanged": c.unchanged, "stale": c.stale,
            "rejected": c.rejected, "future_dated": c.future, "unknown_fields": dict(self.unknown_fields),
            "retries": self.retries,
            "watermark_before": _iso(self.watermark_before),
            "watermark_after": _iso(self.watermark_after),
            "seconds": round(self.seconds, 3), "message": self.message,
        }


def _iso(ts: dt.datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()


def note(result: EntityResult, horizon: dt.datetime) -> str | None:
    """What a person should know about a load that did its job: the load row's message."""
    parts = []
    if result.counts.future:
        parts.append(f"{result.counts.future} record(s) dated after {horizon.isoformat(timespec='seconds')} "
                     f"(up to {result.newest_future.isoformat()}): applied, but the watermark does not follow them")
    if result.unknown_fields:
        named = ", ".join(f"{k} ({v})" for k, v in sorted(result.unknown_fields.items()))
        parts.append(f"fields outside the contract, not stored: {named}")
    return "; ".join(parts) or None


def read_batches(source, batch_size: int = BATCH_SIZE, turn: ReaderTurn | None = None,
                 norm: Normalizer | None = None) -> Iterator[Batch]:
    """Normalised batches of a source; rejects travel with the batch they were read in.

    When the source breaks (SourceError), the records read before it still
    come as a last batch, then the error: earlier pages' records are applied.
    With `turn`, each record waits for the reader's turn. `norm` (made here
    when not given) counts the unknown fields.
    """
    norm = norm or Normalizer(source.entity, typed=source.typed)
    row = norm.row
    two_part_key = len(norm.entity.key) == 2
    lines: list[bytes] = []
    rejects: list[tuple[str, str]] = []
    keys: set[bytes] = set()  # the batch's keys as COPY text: a repeat means the merge must rank
    unique = True
    read = 0
    may_run, wait = (turn.may_run, turn.wait) if turn else (None, None)
    try:
        for record, raw in source.records():
            if may_run is not None and not may_run():
                wait()
            read += 1
            if isinstance(record, Reject):
                rejects.append((raw_text(source.raw_text(raw)), str(record)))
            else:
                try:
                    line = row(record, len(lines))
                except Reject as exc:
                    rejects.append((raw_text(source.raw_text(raw)), str(exc)))
                else:
                    lines.append(line)
                    end = line.find(b"\t")
                    if two_part_key:
                        end = line.find(b"\t", end + 1)
                    k = line[:end]
                    if k in keys:
                        unique = False
                    keys.add(k)
            if read >= batch_size:
                yield Batch(b"".join(lines), rejects, read, unique)
                lines, rejects, keys, unique, read = [], [], set(), True, 0
    except SourceError:
        # what was read before the source broke is good: apply it, then fail
        if read:
            yield Batch(b"".join(lines), rejects, read, unique)
        raise
    if read:
        yield Batch(b"".join(lines), rejects, read, unique)


class ReaderTurn:
    """When the reader thread may run: not while the database thread talks to the database.

    The two threads share the interpreter. Between statements (BEGIN, COPY,
    the counters, COMMIT) the database thread needs it back at every step,
    and each step waited for the reader to let go of it, longest when the
    reader had been preempted while holding it on two busy cores: a mean of
    70-280 ms per batch of 50,000 lines around BEGIN and COPY alone, with the
    database idle. So the reader waits, between records, while the database
    thread talks, and reads while the database merges, the long step. It is
    held back only when it is ahead (a batch ready for the database thread):
    a reader slower than the database, like an API, is never made to wait.
    """

    def __init__(self):
        self._free = threading.Event()
        self._free.set()
        self.may_run = self._free.is_set
        self.wait = self._free.wait
        self.ahead: Callable[[], bool] = lambda: False  # prefetch() tells

    @contextlib.contextmanager
    def talking(self):
        """The database thread's exchanges with the database."""
        if self.ahead():
            self._free.clear()
        try:
            yield
        finally:
            self._free.set()

    @contextlib.contextmanager
    def waiting(self):
        """A long statement inside `talking`: the reader's time."""
        self._free.set()
        try:
            yield
        finally:
            if self.ahead():
                self._free.clear()


_DONE = object()


def prefetch(it: Iterator, depth: int = PREFETCH_BATCHES, turn: ReaderTurn | None = None) -> Iterator:
    """Run an iterator in a thread, `depth` items ahead; its exceptions surface here.

    The reader (parsing, normalising, HTTP) then overlaps with the database's
    merge, which waits on the network and so frees the interpreter. `turn`
    learns from here whether the reader is ahead.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    if turn is not None:
        turn.ahead = lambda: not q.empty()

    def run():
        try:
            for item in it:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, which re-raises
            q.put((_DONE, exc))

    t = threading.Thread(target=run, name="pyloader-reader", daemon=True)
    # the consumer mostly waits on the database and needs the interpreter back
    # for a moment between waits; a busy reader would hold it for the default
    # 5 ms each time
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, READER_SWITCH_INTERVAL))
    t.start()
    try:
        while True:
            item, exc = q.get()
            if item is _DONE:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        if turn is not None:
            turn.ahead = lambda: False
        t.join(timeout=5)
        sys.setswitchinterval(switch)


# --- progress ----------------------------------------------------------------------


class Progress:
    """A progress bar per entity on stderr (rich), only when stderr is a terminal.

    Where the source knows its size (a file: its bytes; Parquet: its rows)
    the bar has a total and an ETA; an API does not say how many records
    will come, so its line shows records, rate and page. Refreshed by the
    loading thread at most every `every` seconds: no refresh thread of its own.
    """

    def __init__(self, stream=None, enabled: bool | None = None, every: float = 0.5):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.every = every
        self._last = 0.0
        self._bar = None
        self._task = None

    def _start(self, ent: str, source) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress as Bar, TaskProgressColumn, TextColumn, TimeRemainingColumn

        console = Console(file=self.stream, force_terminal=self.enabled, stderr=self.stream is sys.stderr)
        self._bar = Bar(
            TextColumn("{task.description:<22}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[records]:>12,} records {task.fields[rate]:>9,.0f}/s{task.fields[page]}"),
            TimeRemainingColumn(), console=console, auto_refresh=False, redirect_stdout=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(ent, total=getattr(source, "total", None), records=0, rate=0.0, page="")

    def update(self, ent: str, source, counts: Counts, started: float, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        if self._bar is None:
            self._start(ent, source)
        page = getattr(source, "page", None)
        self._bar.update(self._task, completed=getattr(source, "done", counts.read), records=counts.read,
                         rate=counts.read / max(now - started, 1e-6), page=f"  page {page}" if page else "")
        self._bar.refresh()

    def done(self) -> None:
        if self._bar is not None:
            self._bar.refresh()
            self._bar.stop()
            self._bar = self._task = None


# --- the loader ----------------------------------------------------------------------


class TenantLoader:
    """Loads sources into one tenant over one tenant session, as the tenant's loader role.

    The session logs in as the authenticator and SET ROLEs to the loader
    (db.tenant_session): the records of a hostile ERP are handled by a
    session that can never become a superuser.
    """

    def __init__(self, client_id: str, url: str | None = None, *, batch_size: int = BATCH_SIZE,
                 progress: Progress | None = None, max_reject_rate: float = MAX_REJECT_RATE):
        self.client_id = client_id
        self.url = url
        self.batch_size = batch_size
        self.progress = progress or Progress(enabled=False)
        self.max_reject_rate = max_reject_rate
        self.conn: psycopg.Connection | None = None
        self.schema = ""
        self.reaped: list[int] = []  # loads left 'running' by a dead process, marked interrupted
        self.results: list[EntityResult] = []  # every entity begun, the one in flight included
        self._session: contextlib.ExitStack | None = None
        self._turn = ReaderTurn()
        self._staged: set[str] = set()
        self._locked = False
        self._retries = 0

    # -- connection ---------------------------------------------------------------

    def __enter__(self) -> TenantLoader:
        self.connect()
        if not self._lock():
            self.close()
            raise LoadError(f"another load of tenant {self.client_id!r} is running; try again when it has finished")
        self.reaped = [r[0] for r in self.conn.execute(queries.reap_stale_loads(self.schema),
                                                       {"at": self._clock()}).fetchall()]
        if self.reaped:
            log.warning("load(s) %s of %s had been left running by a process that died: marked interrupted",
                        ", ".join(map(str, self.reaped)), self.client_id)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        stack = contextlib.ExitStack()
        try:
            conn, schema = stack.enter_context(db.tenant_session(self.client_id, "loader", self.url))
            conn.execute(queries.LOADER_SESSION)  # its name, and no JIT for the merges
        except BaseException:
            stack.close()
            raise
        self._session, self.conn, self.schema = stack, conn, schema
        self._staged = set()

    def close(self) -> None:
        if self.conn is not None:
            # the lock would go with the session, but a backend exits a moment
            # after the socket closes: release it now so the next load finds it free
            if self._locked and not self.conn.broken and not self.conn.closed:
                try:
                    self.conn.execute(queries.RELEASE_LOAD_LOCK)
                except psycopg.Error:
                    pass
            self._locked = False
            self.conn = None
            self._session.close()
            self._session = None

    def _lock(self) -> bool:
        self._locked = bool(self.conn.execute(queries.TRY_LOAD_LOCK).fetchone()[0])
        return self._locked

    def _reconnect(self, cause: BaseException) -> None:
        """A new session after the old one broke, tried for RECONNECT_SECONDS; ConnectionLost if in vain."""
        self.close()
        try:
            for attempt in tenacity.Retrying(stop=tenacity.stop_after_delay(RECONNECT_SECONDS),
                                             wait=tenacity.wait_exponential(multiplier=0.2, max=3),
                                             retry=tenacity.retry_if_exception_type(db.DatabaseUnavailable),
                                             reraise=True):
                with attempt:
                    self.connect()
        except db.DatabaseUnavailable as exc:
            raise ConnectionLost(
                f"the database connection was lost mid-load ({errors.describe(cause)}) and could not be "
                f"re-established within {RECONNECT_SECONDS:g} s ({errors.describe(exc)}); what earlier batches "
                "applied stays, and the next load marks this one interrupted"
            ) from exc
        if not self._lock():
            raise LoadError(f"another load of tenant {self.client_id!r} started while this one reconnected")

    # -- bookkeeping ----------------------------------------------------------------

    def loader_config(self) -> tuple[str | None, dt.timedelta]:
        token, lookback = self.conn.execute(queries.loader_config(self.schema)).fetchone()
        return token, lookback

    def watermarks(self) -> dict[str, dt.datetime]:
        return dict(self.conn.execute(queries.watermarks(self.schema)).fetchall())

    def _clock(self) -> dt.datetime:
        """The server's time now, for a statement to write as a value (queries.sql `clock`)."""
        return self.conn.execute(queries.CLOCK).fetchone()[0]

    def _start(self, source: str, ent: str) -> int:
        return self.conn.execute(queries.start_load(self.schema), {"source": source, "entity": ent}).fetchone()[0]

    def _finish(self, result: EntityResult, move_watermark: bool) -> None:
        def run():
            with self.conn.transaction():
                if move_watermark and result.ok and result.watermark is not None:
                    self.conn.execute(queries.move_watermark(self.schema),
                                      {"entity": result.entity, "updated_at": result.watermark})
                self.conn.execute(queries.finish_load(self.schema),
                                  {"status": result.status, "message": result.message, "load_id": result.load_id,
                                   "retries": result.retries or 0, "at": self._clock()})

        self._with_retry(run)

    def _with_retry(self, fn):
        """`fn` retried on a retryable database error (a new session when the old one broke).

        Each retry is logged with its reason; ConnectionLost when the
        database does not come back.
        """
        def retryable(exc: BaseException) -> bool:
            return isinstance(exc, psycopg.Error) and (
                errors.is_retryable(exc) or isinstance(exc, pgerr.UniqueViolation))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self._retries += 1
            exc = state.outcome.exception()
            log.warning("database: retry %d of %d in %.1f s: %s", state.attempt_number, DB_ATTEMPTS - 1,
                        state.next_action.sleep, errors.describe(exc))
            if self.conn is None or self.conn.broken or self.conn.closed:
                self._reconnect(exc)

        retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(DB_ATTEMPTS),
                                     wait=tenacity.wait_incrementing(start=0.2, increment=0.2),
                                     retry=tenacity.retry_if_exception(retryable), before_sleep=before_sleep,
                                     reraise=True)
        try:
            return retrying(fn)
        except psycopg.OperationalError as exc:
            if self.conn is None or self.conn.broken or self.conn.closed:
                self._reconnect(exc)  # one more chance for the caller's next step, or ConnectionLost
            raise

    # -- batches ---------------------------------------------------------------------

    def _ensure_staging(self, ent: Entity) -> None:
        if ent.name not in self._staged:
            self.conn.execute(q_create_staging(self.schema, ent))
            self._staged.add(ent.name)

    def _apply(self, ent: Entity, load_id: int, batch: Batch, horizon: dt.datetime) -> tuple[Counts, tuple]:
        """One batch in one transaction; a retryable error retries it whole."""
        return self._with_retry(lambda: self._apply_once(ent, load_id, batch, horizon))

    def _apply_once(self, ent: Entity, load_id: int, batch: Batch, horizon: dt.datetime) -> tuple[Counts, tuple]:
        """The batch's counts and (newest updated_at up to `horizon`, newest beyond it)."""
        self._ensure_staging(ent)
        counts = Counts(read=batch.read, rejected=len(batch.rejects))
        newest = (None, None)
        try:
            with self._turn.talking(), self.conn.transaction():
                cur = self.conn.cursor()
                if batch.data:
                    with cur.copy(q_copy_staging(ent)) as cp:
                        cp.write(batch.data)
                    with self._turn.waiting():
                        applied, planned, unchanged, stale, newest_ok, future, newest_future = cur.execute(
                            q_merge(self.schema, ent, unique=batch.unique), {"load_id": load_id, "horizon": horizon}
                        ).fetchone()
                    counts.applied = applied
                    counts.unchanged = unchanged
                    counts.stale = stale + (planned - applied)  # lost a race with a concurrent writer
                    counts.future = future
                    newest = (newest_ok, newest_future)
                    if applied:
                        # from this session: on Citus the marking triggers ran on the worker, which cannot hint
                        cur.execute(queries.hint_work(self.schema))
                self._record(cur, ent, load_id, counts, batch.rejects)
        except pgerr.UniqueViolation:
            raise  # another writer added a key after our probe: the batch is retried whole
        except (pgerr.DataError, pgerr.IntegrityError, pgerr.ProgramLimitExceeded) as exc:
            # the normaliser lets nothing through that the table refuses; if it
            # ever does, find the guilty lines instead of losing their batch
            lines = batch.lines
            if len(lines) <= 1:
                return self._refuse(ent, load_id, batch, exc), (None, None)
            half = len(lines) // 2
            c1, n1 = self._apply_once(ent, load_id,
                                      Batch(b"".join(lines[:half]), batch.rejects, batch.read, batch.unique), horizon)
            c2, n2 = self._apply_once(ent, load_id, Batch(b"".join(lines[half:]), [], 0, batch.unique), horizon)
            c1.add(c2)
            return c1, tuple(_newest(a, b) for a, b in zip(n1, n2))
        return counts, newest

    def _refuse(self, ent: Entity, load_id: int, batch: Batch, exc: Exception) -> Counts:
        rejects = list(batch.rejects)
        for line in batch.lines:
            text = line.decode("utf-8", "backslashreplace").rstrip("\n").rsplit("\t", 1)[0]
            rejects.append((raw_text(text), f"refused by the database: {errors.describe(exc)}"))
        counts = Counts(read=batch.read, rejected=len(rejects))
        with self.conn.transaction():
            self._record(self.conn.cursor(), ent, load_id, counts, rejects)
        return counts

    def _record(self, cur, ent: Entity, load_id: int, counts: Counts, rejects) -> None:
        if rejects:
            with cur.copy(queries.copy_rejects(self.schema)) as cp:
                for raw, reason in rejects:
                    cp.write_row((load_id, ent.name, raw, reason))
        cur.execute(queries.count_batch(self.schema), {"load_id": load_id, **counts.as_dict()})

    def _too_many_rejects(self, counts: Counts) -> str | None:
        if counts.rejected < REJECT_RATE_MIN_REJECTS and counts.rejected < counts.read:
            return None
        if counts.read and counts.rejected > self.max_reject_rate * counts.read:
            return (f"{counts.rejected} of {counts.read} records rejected ({counts.rejected / counts.read:.0%}), "
                    f"more than the {self.max_reject_rate:.0%} --max-reject-rate allows: is it the right file "
                    "and format? The reasons are in the rejects table")
        return None

    # -- entities ---------------------------------------------------------------------

    def load(self, source, *, move_watermark: bool = False, watermark_before: dt.datetime | None = None
             ) -> EntityResult:
        """Load one source (one entity) to the end, or until it fails; never raises for the source's faults.

        Raises Interrupted (after marking the load interrupted) and
        ConnectionLost (the database is gone: nothing can be marked).
        """
        ent = entity(source.entity)
        started = time.monotonic()
        self._retries = 0
        horizon = _horizon()
        load_id = self._with_retry(lambda: self._start(source.label, ent.name))
        result = EntityResult(ent.name, source.label, load_id, "running", Counts(), watermark_before=watermark_before,
                              moves_watermark=move_watermark)
        self.results.append(result)
        norm = Normalizer(ent, typed=source.typed)
        try:
            for batch in prefetch(read_batches(source, self.batch_size, self._turn, norm), turn=self._turn):
                # per batch: in a long load, a record the ERP changed an hour after the
                # load began is not from the future
                horizon = _horizon()
                counts, (newest, newest_future) = self._apply(ent, load_id, batch, horizon)
                result.counts.add(counts)
                result.watermark = _newest(result.watermark, newest)
                result.newest_future = _newest(result.newest_future, newest_future)
                self.progress.update(ent.name, source, result.counts, started)
                if result.counts.read >= REJECT_RATE_MIN_READ and self._too_many_rejects(result.counts):
                    break  # a file of rejects: no use reading it to the end
            too_many = self._too_many_rejects(result.counts)
            result.unknown_fields = dict(norm.unknown)
            if too_many:
                result.status, result.message = "failed", f"{ent.name}: {too_many}"
            else:
                result.status, result.message = "succeeded", note(result, horizon)
        except SourceError as exc:
            result.status, result.message, result.error = "failed", str(exc), exc
        except ConnectionLost:
            result.status = "interrupted"
            raise
        except KeyboardInterrupt as exc:
            name = getattr(exc, "signal_name", "SIGINT")
            result.status, result.message, result.error = "interrupted", f"stopped by {name}", exc
            self._mark_interrupted(result)
            raise
        except psycopg.Error as exc:
            result.status, result.message, result.error = (
                "failed", f"{ent.name}: database error: {errors.describe(exc)}", exc)
            if self.conn is None or self.conn.broken or self.conn.closed:
                self._reconnect(exc)
        except Exception as exc:  # a bug: recorded as a failed load, then raised
            result.status, result.message, result.error = "failed", f"{ent.name}: {type(exc).__name__}: {exc}", exc
            if self.conn is not None and not self.conn.broken:
                self._finish(result, False)
            raise
        finally:
            result.unknown_fields = result.unknown_fields or dict(norm.unknown)
            result.retries = self._retries + getattr(source, "retries", 0)
            result.seconds = time.monotonic() - started
            self.progress.update(ent.name, source, result.counts, started, force=True)
            self.progress.done()
        self._finish(result, move_watermark)
        return result

    def _mark_interrupted(self, result: EntityResult) -> None:
        """Best effort, once: a load that cannot be marked now is reaped by the next one."""
        try:
            if self.conn is None or self.conn.broken or self.conn.closed:
                return
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.conn.rollback()
            with self.conn.transaction():
                self.conn.execute(queries.finish_load(self.schema), {"status": "interrupted", "message": result.message,
                                                              "load_id": result.load_id,
                                                              "retries": result.retries or 0,
                                                              "at": self._clock()})
        except psycopg.Error:
            pass


def _horizon() -> dt.datetime:
    """The latest `updated_at` a watermark may take: now plus FUTURE_TOLERANCE."""
    return dt.datetime.now(dt.timezone.utc) + FUTURE_TOLERANCE


def _newest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else max(a, b)


# --- the two ways in ------------------------------------------------------------------


def load_files(client_id: str, directory, *, url: str | None = None, entities: list[str] | None = None,
               batch_size: int = BATCH_SIZE, progress: Progress | None = None,
               max_reject_rate: float = MAX_REJECT_RATE, loader_out: list | None = None) -> list[EntityResult]:
    """`pyloader load CLIENT --files DIR`: every entity file present, in contract order.

    `loader_out`, when given, receives the TenantLoader (the command line
    reports the loads it reaped).
    """
    from pyloader.sources.files import discover

    sources = discover(directory, entities)
    if not sources:
        raise SourceError(f"{directory}: no entity files (<entity>.jsonl, .csv or .parquet) found")
    with TenantLoader(client_id, url, batch_size=batch_size, progress=progress,
                      max_reject_rate=max_reject_rate) as loader:
        if loader_out is not None:
            loader_out.append(loader)
        return [loader.load(src) for src in sources]


def load_api(client_id: str, base_url: str, *, url: str | None = None, entities: list[str] | None = None,
             batch_size: int = BATCH_SIZE, progress: Progress | None = None, page_size: int = 5000,
             retry=None, limits=None, token: str | None = None, max_reject_rate: float = MAX_REJECT_RATE,
             loader_out: list | None = None) -> list[EntityResult]:
    """`pyloader load CLIENT --api URL`: every entity from its watermark minus the lookback.

    The token comes from MASTERFILE_ERP_TOKEN, else from the tenant's
    loader_config.api_token (`token=` is for tests). An error that no other
    entity would escape (401, an unreachable API) stops the load there.
    """
    from pyloader.sources.api import ApiClient, ApiError, ApiSource

    names = [entity(n).name for n in (entities or ENTITY_ORDER)]
    results: list[EntityResult] = []
    with TenantLoader(client_id, url, batch_size=batch_size, progress=progress,
                      max_reject_rate=max_reject_rate) as loader:
        if loader_out is not None:
            loader_out.append(loader)
        config_token, lookback = loader.loader_config()
        token = token or os.environ.get(TOKEN_ENV) or config_token
        marks = loader.watermarks()
        for name in names:
            mark = marks.get(name)
            since = None if mark is None else mark - lookback
            # a client (a connection) per entity: a reader thread left behind by a
            # failed entity can never share a socket with the next one
            with ApiClient(base_url, token, page_size=page_size, retry=retry, limits=limits) as client:
                result = loader.load(ApiSource(client, name, since), move_watermark=True, watermark_before=mark)
            results.append(result)
            if not result.ok and isinstance(result.error, ApiError) and result.error.fatal:
                break
    return results
