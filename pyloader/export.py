"""The master file as a file: `pyloader export` (interface.md, "Export").

What it guarantees:

- one snapshot: everything is read in one REPEATABLE READ, READ ONLY
  transaction of the tenant's reader role, so a run that commits meanwhile
  neither tears nor mixes the file;
- the file appears only when complete: rows go to a temporary file beside
  FILE, which is renamed onto FILE at the end; an error or an interruption
  removes it and leaves FILE as it was;
- streaming: a CSV export writes COPY ... (FORMAT csv) chunk by chunk as
  the server sends it; a Parquet export reads binary COPY through the Arrow
  PostgreSQL driver (ADBC), which decodes it into record batches in C, in a
  second session that imports the first one's snapshot, and writes a row
  group every ROW_GROUP_ROWS rows: memory holds a few batches and one row
  group whatever the tenant's size;
- values exact: Parquet doubles are the server's binary values; CSV doubles
  are their shortest exact text (extra_float_digits > 0). In CSV an empty
  unquoted field is a null, an empty string is written `""`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import queue
import tempfile
import sys
import threading
import time

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from pyloader import db, queries
from pyloader.config import validate_client_id

# what can be exported, and the week column each one's --from-week/--to-week filter
TABLES = {"master_file": "week_start", "recommendations": "as_of_week", "forecasts": "target_week"}
FORMATS = {".parquet": "parquet", ".csv": "csv"}
COMPRESSIONS = ("zstd", "snappy", "none")
ROW_GROUP_ROWS = 65_536
# record batches (~16 MB each) decoded ahead of the one being compressed
QUEUED_BATCHES = 4

# PostgreSQL type (pg_type.typname) -> Arrow type; numeric and anything else
# are decided in arrow_type()
_ARROW_TYPES = {
    "date": pa.date32(),
    "float8": pa.float64(),
    "float4": pa.float32(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "timestamp": pa.timestamp("us"),
}


class ExportInputError(ValueError):
    """A request refused before anything is written (bad week, path, column)."""


@dataclasses.dataclass(frozen=True)
class Request:
    client_id: str
    path: str
    table: str = "master_file"
    from_week: dt.date | None = None
    to_week: dt.date | None = None
    product_ids: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    overwrite: bool = False
    compression: str = "zstd"

    @property
    def format(self) -> str:
        return FORMATS[os.path.splitext(self.path)[1].lower()]


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # format_type(), for messages and the docs
    typname: str
    precision: int | None
    scale: int | None

    def arrow_type(self) -> pa.DataType:
        """The contract's mapping; numeric of fixed scale -> decimal128, else text."""
        if self.typname == "numeric":
            if self.precision is not None and self.precision <= 38:
                return pa.decimal128(self.precision, self.scale)
            return pa.string()
        return _ARROW_TYPES.get(self.typname, pa.string())


def parse_week(text: str, option: str) -> dt.date:
    """A Monday given as YYYY-MM-DD; ExportInputError otherwise."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ExportInputError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None
    if day.weekday() != 0:
        raise ExportInputError(f"{option} {text} is a {day:%A}; weeks start on a Monday "
                               f"({day - dt.timedelta(days=day.weekday())})")
    return day


def check_request(req: Request) -> None:
    """Everything that can be refused before any SQL runs."""
    validate_client_id(req.client_id)
    if req.table not in TABLES:
        raise ExportInputError(f"unknown table {req.table!r}; one of {', '.join(TABLES)}")
    ext = os.path.splitext(req.path)[1].lower()
    if ext not in FORMATS:
        raise ExportInputError(f"{req.path}: the file name must end in .parquet or .csv")
    if req.compression not in COMPRESSIONS:
        raise ExportInputError(f"unknown compression {req.compression!r}; one of {', '.join(COMPRESSIONS)}")
    if req.from_week and req.to_week and req.from_week > req.to_week:
        raise ExportInputError(f"--from-week {req.from_week} is after --to-week {req.to_week}")
    if os.path.isdir(req.path):
        raise ExportInputError(f"{req.path} is a directory")
    if os.path.lexists(req.path) and not req.overwrite:
        raise ExportInputError(f"{req.path} exists; pass --overwrite to replace it")
    folder = os.path.dirname(os.path.abspath(req.path))
    if not os.path.isdir(folder):
        why = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise ExportInputError(f"cannot write {req.path}: {folder} {why}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportInputError(f"cannot write {req.path}: {folder} is not writable")


class Progress:
    """One refreshed status line on stderr, only when stderr is a terminal: rows written of the total, and their rate."""

    total: int | None = None

    def __init__(self, stream=None, enabled: bool | None = None, every: float = 0.5):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.every = every
        self._last = 0.0
        self._width = 0
        self._started = time.monotonic()

    def done(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0

    def rows(self, rows: int, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        of = f" of {self.total:,}" if self.total is not None else ""
        text = f"export: {rows:,}{of} rows  {rows / max(now - self._started, 1e-6):,.0f} rows/s"
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()


def export(req: Request, url: str | None = None, *, progress: Progress | None = None) -> dict:
    """Write one table of a tenant to req.path; the summary (rows, bytes, seconds, ...)."""
    check_request(req)
    progress = progress or Progress(enabled=False)
    started = time.monotonic()
    with db.tenant_session(req.client_id, "reader", url, autocommit=False) as (conn, schema):
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        # output the COPY must have for the parse back to be exact and zoned
        conn.execute(queries.EXPORT_SESSION)
        columns = view_columns(conn, schema, req.table)
        if not columns:
            raise ExportInputError(f"tenant {req.client_id!r} has no {req.table}")
        columns = chosen_columns(columns, req.columns, req.table)
        meta = {
            "client_id": req.client_id,
            "table": req.table,
            "as_of_week": conn.execute(queries.EXPORT_AS_OF_WEEK).fetchone()[0].isoformat(),
            "revision": conn.execute(queries.tenant_revision(schema)).fetchone()[0],
            "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        select, params = select_rows(req, columns)
        if progress.enabled:
            progress.total = conn.execute(queries.count_rows(select), params).fetchone()[0]
        with _TemporaryFile(req.path, req.overwrite) as tmp:
            if req.format == "csv":
                rows = _write_csv(conn, select, params, tmp.file, progress)
            else:
                rows = _write_parquet(conn, schema, select, params, columns, meta, req.compression, tmp.file,
                                      progress, url)
            tmp.commit()
        conn.rollback()  # read only: nothing to keep
    progress.rows(rows, force=True)
    progress.done()
    return {**meta, "file": os.path.abspath(req.path), "format": req.format, "rows": rows,
            "bytes": os.path.getsize(req.path), "seconds": round(time.monotonic() - started, 3)}


def view_columns(conn: psycopg.Connection, schema: str, table: str) -> list[Column]:
    return [Column(*r) for r in conn.execute(queries.EXPORT_COLUMNS, {"schema": schema, "table": table})]


def chosen_columns(columns: list[Column], wanted: tuple[str, ...], table: str) -> list[Column]:
    """The requested columns in the view's order; all of them when none is named."""
    if not wanted:
        return columns
    names = {c.name for c in columns}
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ExportInputError(f"{table} has no column {', '.join(map(repr, unknown))}")
    return [c for c in columns if c.name in set(wanted)]


def select_rows(req: Request, columns: list[Column]) -> tuple[sql.Composed, dict]:
    """The SELECT of the rows to export, its filters bound as parameters."""
    params = {}
    if req.from_week:
        params["from_week"] = req.from_week
    if req.to_week:
        params["to_week"] = req.to_week
    if req.product_ids:
        params["product_ids"] = list(req.product_ids)
    return queries.export_rows(req.table, [c.name for c in columns], TABLES[req.table], list(params)), params


def _write_csv(conn, select, params, out, progress: Progress) -> int:
    """COPY's CSV as it comes; rows counted by COPY itself."""
    lines = 0
    with conn.cursor() as cur:
        with cur.copy(queries.copy_csv(select, header=True), params) as copy:
            for chunk in copy:
                out.write(chunk)
                if progress.enabled:  # a value holding a newline only skews the progress
                    lines += bytes(chunk).count(b"\n")
                    progress.rows(lines - 1)
        return cur.rowcount


def _write_parquet(conn, schema_name, select, params, columns, meta, compression, out, progress: Progress,
                   url: str | None) -> int:
    """The rows through the Arrow PostgreSQL driver (binary COPY decoded in C),
    in the snapshot of `conn`'s transaction, a row group every ROW_GROUP_ROWS."""
    schema = pa.schema([pa.field(c.name, c.arrow_type()) for c in columns], metadata=meta)
    snapshot = conn.execute(queries.EXPORT_SNAPSHOT).fetchone()[0]
    # the filters' values are quoted by psycopg, the driver gets one statement
    query = psycopg.ClientCursor(conn).mogrify(select, params)
    # the second session: the same snapshot, as the same tenant role
    setup = ([s.as_string(conn) for s in queries.export_arrow_snapshot(snapshot)]
             + db.tenant_statements(schema_name, "reader") + queries.EXPORT_ARROW_SETTINGS)
    rows = 0
    with _ArrowRows(db.app_conninfo(url), setup, query) as batches, \
            pq.ParquetWriter(out, schema, compression=compression) as writer:
        pending, pending_rows = [], 0
        for batch in batches:
            pending.append(_conform(batch, schema))
            pending_rows += batch.num_rows
            if pending_rows >= ROW_GROUP_ROWS:
                rows += _write_row_group(writer, schema, pending)
                pending, pending_rows = [], 0
                progress.rows(rows)
        rows += _write_row_group(writer, schema, pending)
    return rows


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A driver's batch in the export's types (a numeric arrives as text)."""
    arrays = []
    for array, field in zip(batch.columns, schema):
        if isinstance(array.type, pa.ExtensionType):
            array = array.storage
        arrays.append(array if array.type == field.type else array.cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _write_row_group(writer: pq.ParquetWriter, schema: pa.Schema, batches: list) -> int:
    if not batches:
        return 0
    table = pa.Table.from_batches(batches, schema=schema)
    writer.write_table(table, row_group_size=table.num_rows)
    return table.num_rows


class _ArrowRows:
    """Record batches of one query, read by a thread of their own.

    The thread decodes while the caller compresses, and the queue bounds what
    is held between them. The caller's thread only waits on the queue, so a
    signal reaches it; on the way out the query is cancelled.
    """

    def __init__(self, conninfo: str, setup: list[str], query: str):
        self._conninfo, self._setup, self._query = conninfo, setup, query
        self._queue: queue.Queue = queue.Queue(QUEUED_BATCHES)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._cursor = None
        self._thread = threading.Thread(target=self._read, name="export-rows", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __iter__(self):
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                if self._error is not None:
                    raise self._error
                return
            yield item

    def __exit__(self, *exc):
        self._stop.set()
        cursor = self._cursor
        if cursor is not None and self._thread.is_alive():
            try:
                cursor.adbc_cancel()
            except Exception:  # already finished or closed
                pass
        while self._thread.is_alive():  # unblock a put() so the thread sees the stop
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            import adbc_driver_postgresql.dbapi as adbc

            with adbc.connect(self._conninfo) as aconn, aconn.cursor() as cur:
                self._cursor = cur
                for statement in self._setup:
                    cur.execute(statement)
                cur.execute(self._query)
                with cur.fetch_record_batch() as reader:
                    for batch in reader:
                        if not self._put(batch):
                            break
                self._cursor = None
                aconn.rollback()
        except BaseException as exc:  # raised in the caller's thread
            self._error = exc
        self._put(None)


class _TemporaryFile:
    """A file beside `path` that becomes `path` on commit() and vanishes otherwise."""

    def __init__(self, path: str, overwrite: bool):
        self.path = path
        self.overwrite = overwrite
        folder, name = os.path.split(os.path.abspath(path))
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=folder)
        except OSError as exc:
            raise ExportInputError(f"cannot write {path}: {exc.strerror}") from None
        self.file = os.fdopen(fd, "wb")
        self._done = False

    def __enter__(self):
        return self

    def commit(self) -> None:
        self.file.close()
        os.chmod(self.tmp, 0o666 & ~_umask())
        if self.overwrite:
            os.replace(self.tmp, self.path)
        else:  # a link fails if FILE appeared meanwhile: never clobber without --overwrite
            try:
                os.link(self.tmp, self.path)
            except FileExistsError:
                raise ExportInputError(f"{self.path} exists; pass --overwrite to replace it") from None
            os.unlink(self.tmp)
        self._done = True

    def __exit__(self, *exc):
        if not self._done:
            self.file.close()
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
