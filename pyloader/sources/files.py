"""Streaming readers for `DIR/<entity>.jsonl|.csv|.parquet` (interface.md).

Each reader walks its file record by record (Parquet: one row batch at a
time), so memory does not grow with the file. A record that does not parse
is yielded as a `Reject` next to its raw text; a file that cannot be read at
all raises `SourceError` naming the file and why.
"""
from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from pyloader.errors import describe
from pyloader.normalize import ENTITY_ORDER, Reject, entity
from pyloader.sources import SourceError

FORMATS = ("jsonl", "csv", "parquet")
# a CSV field past this is refused by the normaliser anyway; this only bounds memory
_CSV_FIELD_LIMIT = 1 << 20
PARQUET_BATCH_ROWS = 8192


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)
_SCAN = _DECODER.scan_once  # the C scanner, without decode()'s per-call wrapping


def loads_json(data: bytes | str):
    """JSON with exact decimals: numbers keep their digits, NaN/Infinity become non-finite Decimals.

    Raises ValueError for anything that is not exactly one JSON value.
    """
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8")  # JSON text is UTF-8 (RFC 8259); a bad byte is a ValueError
    text = data.strip()
    try:
        value, end = _SCAN(text, 0)
    except StopIteration as exc:
        raise ValueError(f"expecting a value at character {exc.value}") from None
    if end != len(text):
        raise ValueError(f"extra data at character {end}")
    return value


class FileSource:
    """One entity file. `typed` tells the normaliser how to read its values."""

    def __init__(self, entity_name: str, path: Path, fmt: str):
        self.entity = entity_name
        self.path = Path(path)
        self.fmt = fmt
        self.typed = fmt != "csv"
        self.position = 0  # records read so far, for progress lines
        self._fh = None  # the open file, whose offset tells progress how far the reader is
        self._finished = False

    @functools.cached_property
    def total(self) -> int | None:
        """How much there is to read, in the unit of `done`: bytes (rows for Parquet)."""
        try:
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                return pq.ParquetFile(self.path).metadata.num_rows
            return self.path.stat().st_size
        except Exception:  # an unreadable file fails when it is read, not here
            return None

    @property
    def done(self) -> int:
        if self.fmt == "parquet":
            return self.position
        if self._finished:
            return self.total or 0
        fh = self._fh
        try:
            return fh.tell() if fh is not None and not fh.closed else 0
        except (OSError, ValueError):
            return 0

    @property
    def label(self) -> str:
        return f"file:{self.path}"

    def records(self) -> Iterator[tuple[object, object]]:
        try:
            if self.fmt == "jsonl":
                yield from self._jsonl()
            elif self.fmt == "csv":
                yield from self._csv()
            else:
                yield from self._parquet()
            self._finished = True
        except SourceError:
            raise
        except (OSError, csv.Error, ValueError) as exc:
            raise SourceError(f"{self.path}: cannot be read after {self.position} records: {exc}") from exc

    def raw_text(self, raw) -> str:
        if self.fmt == "csv" and isinstance(raw, list):
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(raw)
            return buf.getvalue()
        return raw  # type: ignore[return-value]

    # -- formats ---------------------------------------------------------------

    def _jsonl(self):
        with open(self.path, "rb") as fh:
            self._fh = fh
            first = True
            for line in fh:
                if first:
                    # a UTF-8 byte order mark (editors on Windows write one) is not part of the record
                    line = line.removeprefix(b"\xef\xbb\xbf")
                    first = False
                if not line.strip():
                    continue
                self.position += 1
                try:
                    yield loads_json(line), line
                except (ValueError, RecursionError) as exc:
                    yield Reject(f"not JSON: {describe(exc)[:120]}"), line

    def _csv(self):
        csv.field_size_limit(_CSV_FIELD_LIMIT)
        key = entity(self.entity).key_names
        # surrogateescape: a line with bad bytes is read, and refused alone by the normaliser
        with open(self.path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            self._fh = fh.buffer  # text files cannot tell() while iterated; their buffer can
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                return
            header = [h.strip().lstrip("\ufeff") for h in header]
            missing = [k for k in key if k not in header]
            if missing:
                raise SourceError(f"{self.path}: header has no {', '.join(missing)} column")
            for row in reader:
                if not row:
                    continue
                self.position += 1
                yield dict(zip(header, row)), row

    def _parquet(self):
        try:
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises its own types for a broken file
            raise SourceError(f"{self.path}: not a readable Parquet file: {exc}") from exc
        try:
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                for rec in batch.to_pylist():
                    self.position += 1
                    yield rec, rec
        except Exception as exc:
            raise SourceError(f"{self.path}: cannot be read after {self.position} records: {exc}") from exc


def discover(directory: Path | str, entities: list[str] | None = None) -> list[FileSource]:
    """The entity files present in `directory`, in contract order (all formats found)."""
    d = Path(directory)
    if not d.is_dir():
        raise SourceError(f"{d}: not a directory")
    found = []
    for name in entities or ENTITY_ORDER:
        entity(name)  # unknown names are refused
        for fmt in FORMATS:
            p = d / f"{name}.{fmt}"
            if p.is_file():
                found.append(FileSource(name, p, fmt))
    return found
