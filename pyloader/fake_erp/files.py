"""The fake ERP's data set written as entity files, for `pyloader load --files`.

Streams record by record (Parquet: row groups of PARQUET_ROWS), so a data
set of millions of lines is written in constant memory. The files hold what
the API would serve at the same generation, in the same order.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from pyloader.fake_erp.generator import Dataset
from pyloader.fake_erp.server import is_malformed, malformed
from pyloader.normalize import ENTITY_ORDER, entity

PARQUET_ROWS = 65_536


def _records(ds: Dataset, name: str, generation: int, malformed_rate: float):
    for us, positions, seg, rec in ds.stream(name, generation):
        if rec is None:
            continue
        h = is_malformed(ds, name, seg, positions[seg] - 1, malformed_rate)
        yield us, (rec if h is None else malformed(name, rec, h))


def write_files(
    ds: Dataset,
    directory: Path | str,
    fmt: str = "jsonl",
    *,
    generation: int = 0,
    entities: list[str] | None = None,
    malformed_rate: float = 0.0,
) -> dict[str, Path]:
    """Write DIR/<entity>.<fmt> for each entity; returns the paths written."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in entities or ENTITY_ORDER:
        path = d / f"{name}.{fmt}"
        records = _records(ds, name, generation, malformed_rate)
        if fmt == "jsonl":
            _jsonl(path, records)
        elif fmt == "csv":
            _csv(path, name, records)
        elif fmt == "parquet":
            if malformed_rate:
                raise ValueError("Parquet columns are typed: malformed records are only written to jsonl and csv")
            _parquet(path, name, records)
        else:
            raise ValueError(f"format must be jsonl, csv or parquet, got {fmt!r}")
        out[name] = path
    return out


def _jsonl(path: Path, records) -> None:
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as fh:
        for _, rec in records:
            fh.write(dumps(rec))
            fh.write("\n")


def _csv(path: Path, name: str, records) -> None:
    cols = list(entity(name).columns)
    with open(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for _, rec in records:
            row = []
            for c in cols:
                v = rec.get(c)
                if v is None or v is False:
                    row.append("")
                elif v is True:
                    row.append("true")
                else:
                    row.append(v if isinstance(v, str) else json.dumps(v))
            w.writerow(row)


def _parquet(path: Path, name: str, records) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ent = entity(name)
    kinds = {f.name: f.kind for f in ent.key + ent.fields}
    arrow = {"id": pa.string(), "text": pa.string(), "enum": pa.string(), "int": pa.int32(), "numeric": pa.float64(),
             "date": pa.date32()}
    schema = pa.schema([pa.field(n, arrow[k]) for n, k in kinds.items()]
                       + [pa.field("updated_at", pa.timestamp("us", tz="UTC")), pa.field("deleted", pa.bool_())])
    cols: dict[str, list] = {n: [] for n in kinds}
    stamps: list[int] = []
    deleted: list[bool] = []

    def flush(writer):
        arrays = [
            # dates travel as ISO text and are cast by Arrow, which is much faster than date objects
            pa.array(v, pa.string()).cast(pa.date32()) if kinds[n] == "date" else pa.array(v, arrow[kinds[n]])
            for n, v in cols.items()
        ]
        arrays.append(pa.array(stamps, pa.int64()).cast(pa.timestamp("us", tz="UTC")))
        arrays.append(pa.array(deleted, pa.bool_()))
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        for v in cols.values():
            v.clear()
        stamps.clear()
        deleted.clear()

    with pq.ParquetWriter(path, schema) as writer:
        for us, rec in records:
            for n, v in cols.items():
                v.append(rec.get(n))
            stamps.append(us)
            deleted.append(bool(rec.get("deleted")))
            if len(stamps) >= PARQUET_ROWS:
                flush(writer)
        if stamps:
            flush(writer)
